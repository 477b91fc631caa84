#include "specs/gpg_signature.h"

#include <gpgme.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <utility>

#include "base/c_handle.h"
#include "base/file_util.h"
#include "base/subprocess.h"
#include "base/temp_dir.h"

namespace gitdisc::specs {
namespace {

using GpgCtxPtr = CHandle<gpgme_context, gpgme_release>;
using GpgDataPtr = CHandle<gpgme_data, gpgme_data_release>;
using GpgKeyPtr = CHandle<_gpgme_key, gpgme_key_unref>;

constexpr uint64_t kMaxKeyringBytes = 16 << 20;

std::string GpgText(gpgme_error_t err) { return gpgme_strerror(err); }

// gpgme must be told its version once per process before any context.
Status InitGpgme() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = gpgme_check_version(nullptr) != nullptr &&
         gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) == 0;
  });
  if (!ok) return Status::Unavailable("GnuPG (gpg) cannot be run: install the gpg package");
  return Status::Ok();
}

Result<GpgDataPtr> DataFrom(std::string_view bytes) {
  gpgme_data_t d = nullptr;
  // copy=1: gpgme keeps its own copy, so the view need not outlive the call.
  gpgme_error_t err = gpgme_data_new_from_mem(&d, bytes.data(), bytes.size(), 1);
  if (err != 0) return Status::Internal("gpgme data: " + GpgText(err));
  return GpgDataPtr(d);
}

}  // namespace

struct GpgSignatureVerifier::Impl {
  // Declared first: removed last, after the context that uses it is gone.
  TempDir home;
  std::string keyring_file;
  std::chrono::milliseconds timeout{0};
  int key_count = 0;
  mutable std::mutex mu;  // guards ctx: a gpgme context is used by one thread at a time
  GpgCtxPtr ctx;

  explicit Impl(TempDir h) : home(std::move(h)) {}
  ~Impl() {
    ctx.reset();
    // Verifying needs no agent, but should a GnuPG version start one for
    // this home, it must not outlive the home.
    if (PathExists(home.path() + "/S.gpg-agent")) {
      SubprocessSpec kill;
      kill.argv = {"gpgconf", "--homedir", home.path(), "--kill", "all"};
      kill.timeout = std::chrono::seconds(5);
      (void)RunSubprocess(kill);
    }
  }

  Status Import(std::string_view keys);
  // Runs the verify operation under the deadline; the gpgme status.
  gpgme_error_t VerifyWithin(gpgme_data_t sig, gpgme_data_t text) const;
  std::string UserId(const char* fpr) const;
  SignatureVerdict Judge(const CommitSignatureData& commit, gpgme_signature_t s) const;
};

Status GpgSignatureVerifier::Impl::Import(std::string_view keys) {
  GITDISC_ASSIGN_OR_RETURN(GpgDataPtr data, DataFrom(keys));
  gpgme_error_t err = gpgme_op_import(ctx.get(), data.get());
  if (err != 0) return Status::Invalid(keyring_file + ": import failed: " + GpgText(err));
  gpgme_import_result_t r = gpgme_op_import_result(ctx.get());
  key_count = r != nullptr ? r->imported + r->unchanged : 0;
  if (key_count == 0) {
    return Status::Invalid(keyring_file +
                           ": holds no OpenPGP public key (expected the output of gpg --export)");
  }
  return Status::Ok();
}

gpgme_error_t GpgSignatureVerifier::Impl::VerifyWithin(gpgme_data_t sig, gpgme_data_t text) const {
  gpgme_error_t err = gpgme_op_verify_start(ctx.get(), sig, text, nullptr);
  if (err != 0) return err;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    gpgme_error_t status = 0;
    gpgme_ctx_t done = gpgme_wait(ctx.get(), &status, 0);
    if (done == ctx.get()) return status;
    if (done == nullptr && status != 0) return status;
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)gpgme_cancel(ctx.get());
      (void)gpgme_wait(ctx.get(), &status, 1);
      return gpgme_error(GPG_ERR_TIMEOUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string GpgSignatureVerifier::Impl::UserId(const char* fpr) const {
  gpgme_key_t key = nullptr;
  if (fpr == nullptr || gpgme_get_key(ctx.get(), fpr, &key, 0) != 0) return "";
  GpgKeyPtr owned(key);
  return key->uids != nullptr && key->uids->uid != nullptr ? key->uids->uid : "";
}

SignatureVerdict GpgSignatureVerifier::Impl::Judge(const CommitSignatureData& commit,
                                                   gpgme_signature_t s) const {
  SignatureVerdict v;
  v.commit = commit.commit;
  v.format = "openpgp";
  v.key = s->fpr != nullptr ? s->fpr : "";
  switch (gpgme_err_code(s->status)) {
    case GPG_ERR_NO_ERROR:
      if ((s->summary & GPGME_SIGSUM_KEY_REVOKED) != 0) {
        v.problem = SignatureProblem::kBadSignature;
        v.detail = "key " + v.key + " is revoked";
      } else if ((s->summary & (GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED)) != 0) {
        v.problem = SignatureProblem::kBadSignature;
        v.detail = "key or signature expired";
      } else {
        v.signer = UserId(s->fpr);
      }
      return v;
    case GPG_ERR_NO_PUBKEY:
      v.problem = SignatureProblem::kUnknownKey;
      v.detail = "OpenPGP key " + v.key + " is not in " + keyring_file;
      return v;
    default:
      v.problem = SignatureProblem::kBadSignature;
      v.detail = GpgText(s->status);
      return v;
  }
}

GpgSignatureVerifier::GpgSignatureVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpgSignatureVerifier::~GpgSignatureVerifier() = default;

Result<std::unique_ptr<GpgSignatureVerifier>> GpgSignatureVerifier::Open(
    const std::string& keyring_file, std::chrono::milliseconds timeout) {
  GITDISC_RETURN_IF_ERROR(InitGpgme());
  auto keys = ReadFile(keyring_file, kMaxKeyringBytes);
  if (!keys.ok()) return keys.status().Annotate("OpenPGP keyring");
  GITDISC_ASSIGN_OR_RETURN(TempDir home, TempDir::Make("gitdisc-gnupg-"));
  auto impl = std::make_unique<Impl>(std::move(home));
  impl->keyring_file = keyring_file;
  impl->timeout = timeout;
  gpgme_ctx_t ctx = nullptr;
  gpgme_error_t err = gpgme_new(&ctx);
  if (err != 0) return Status::Unavailable("gpgme: " + GpgText(err));
  impl->ctx.reset(ctx);
  err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
  if (err == 0) {
    err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nullptr,
                                    impl->home.path().c_str());
  }
  if (err != 0) return Status::Unavailable("gpgme: " + GpgText(err));
  gpgme_set_offline(ctx, 1);
  GITDISC_RETURN_IF_ERROR(impl->Import(*keys));
  return std::unique_ptr<GpgSignatureVerifier>(new GpgSignatureVerifier(std::move(impl)));
}

SignatureVerdict GpgSignatureVerifier::Verify(const CommitSignatureData& commit) const {
  SignatureVerdict v;
  v.commit = commit.commit;
  v.format = "openpgp";
  auto sig = DataFrom(commit.signature);
  auto text = DataFrom(commit.signed_data);
  if (!sig.ok() || !text.ok()) {
    v.problem = SignatureProblem::kError;
    v.detail = (sig.ok() ? text.status() : sig.status()).message();
    v.transient = true;
    return v;
  }
  std::lock_guard<std::mutex> l(impl_->mu);
  gpgme_error_t err = impl_->VerifyWithin(sig->get(), text->get());
  gpgme_verify_result_t r = err == 0 ? gpgme_op_verify_result(impl_->ctx.get()) : nullptr;
  if (err != 0 && gpgme_err_code(err) != GPG_ERR_BAD_SIGNATURE) {
    v.problem = SignatureProblem::kError;
    v.detail = "gpg: " + GpgText(err);
    v.transient = gpgme_err_code(err) == GPG_ERR_TIMEOUT;
    return v;
  }
  if (r == nullptr || r->signatures == nullptr) {
    v.problem = SignatureProblem::kBadSignature;
    v.detail = "no OpenPGP signature could be read";
    return v;
  }
  return impl_->Judge(commit, r->signatures);
}

const std::string& GpgSignatureVerifier::keyring_file() const { return impl_->keyring_file; }
int GpgSignatureVerifier::key_count() const { return impl_->key_count; }

}  // namespace gitdisc::specs
