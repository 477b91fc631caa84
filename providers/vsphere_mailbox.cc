#include "providers/vsphere_mailbox.h"

#include "providers/vsphere_vim.h"

namespace gitdisc::vsphere {
namespace {

class ExtraConfigSlots final : public guest::MailboxSlots {
 public:
  ExtraConfigSlots(std::shared_ptr<VimClient> vim, MoRef vm, std::string what,
                   std::string read_key, std::string write_key, std::chrono::seconds task_timeout)
      : vim_(std::move(vim)),
        vm_(std::move(vm)),
        what_(std::move(what)),
        read_key_(std::move(read_key)),
        write_key_(std::move(write_key)),
        task_timeout_(task_timeout) {}

  Result<std::string> ReadPeer() override {
    GITDISC_ASSIGN_OR_RETURN(VimVm v, vim_->GetVmProperties(vm_, {"config.extraConfig"}));
    return v.Extra(read_key_).value_or("");
  }

  Status WriteOwn(const std::string& value) override {
    VmEdit edit;
    edit.extra_config.emplace_back(write_key_, value);
    return vim_->Reconfigure(vm_, edit, what_ + " " + write_key_,
                             std::chrono::steady_clock::now() + task_timeout_);
  }

 private:
  std::shared_ptr<VimClient> vim_;
  MoRef vm_;
  std::string what_, read_key_, write_key_;
  std::chrono::seconds task_timeout_;
};

}  // namespace

std::unique_ptr<guest::MailboxSlots> MakeExtraConfigSlots(std::shared_ptr<VimClient> vim, MoRef vm,
                                                          std::string what, std::string read_key,
                                                          std::string write_key,
                                                          std::chrono::seconds task_timeout) {
  return std::make_unique<ExtraConfigSlots>(std::move(vim), std::move(vm), std::move(what),
                                            std::move(read_key), std::move(write_key),
                                            task_timeout);
}

}  // namespace gitdisc::vsphere
