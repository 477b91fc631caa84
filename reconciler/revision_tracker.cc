#include "reconciler/revision_tracker.h"

#include <utility>

namespace gitdisc::reconciler {

RevisionTracker::RevisionTracker(specs::Source* source, const Clock* clock, StatusWriter* status)
    : source_(source), clock_(clock), status_(status) {}

Result<std::shared_ptr<const specs::Snapshot>> RevisionTracker::SnapshotAt(
    const std::string& rev, std::optional<Trigger>* trigger) {
  if (!rev.empty()) {
    std::lock_guard<std::mutex> s(source_mu_);
    // An explicit revision is held to the same signature rule as the tip,
    // checked before its specs are read.
    GITDISC_ASSIGN_OR_RETURN(specs::SignatureVerdict verdict, source_->Verify(rev));
    if (!verdict.verified()) {
      return Status::Invalid("revision " + rev + " is not verified: " +
                             specs::SignatureDiagnostic(verdict).ToString());
    }
    return source_->Load(rev);
  }
  bool poll;
  {
    // The trigger goes with the poll it asked for, so a scan that began
    // before a webhook never spends that webhook's trigger.
    std::lock_guard<std::mutex> l(mu_);
    poll = std::exchange(dirty_, false);
    trigger->swap(trigger_);
    trigger_.reset();
  }
  std::lock_guard<std::mutex> s(source_mu_);
  GITDISC_ASSIGN_OR_RETURN(specs::SourceState st, poll ? source_->Poll() : source_->State());
  SourceStatus ss;
  ss.repo = source_->options().repo;
  ss.branch = st.branch;
  ss.revision = st.tip;
  ss.last_valid_revision = st.newest_valid;
  ss.fetched_unix = UnixNow(clock_);
  for (const auto& inv : st.invalid) {
    if (inv.signature.has_value()) {
      // SignatureUnverified: the newest refused revision, reported apart
      // from spec errors.
      if (ss.unverified_revision.empty()) {
        ss.unverified_revision = inv.revision;
        ss.unverified_commit = inv.signature->commit;
        ss.unverified_reason = inv.signature->Reason();
      }
      continue;
    }
    for (const auto& d : inv.diagnostics) ss.spec_errors.push_back(d.ToString());
  }
  std::string first_error = !ss.spec_errors.empty() ? ss.spec_errors.front()
                            : !ss.unverified_revision.empty()
                                ? "signature: commit " + ss.unverified_commit.substr(0, 12) +
                                      ": " + ss.unverified_reason
                                : std::string();
  status_->SetSource(std::move(ss));
  if (st.newest_valid.empty()) {
    std::string why = st.walkback_exhausted
                          ? " within the " + std::to_string(st.invalid.size()) +
                                " newest commits (walking back further continues at the next poll)"
                          : " (every commit of the branch is invalid)";
    return Status::Invalid("no valid revision on branch " + st.branch + why +
                           (first_error.empty() ? "" : ":\n" + first_error));
  }
  return source_->Load(st.newest_valid);
}

void RevisionTracker::NotifySourceChanged(std::string_view reason) {
  std::lock_guard<std::mutex> l(mu_);
  if (!trigger_) trigger_ = Trigger{std::string(reason), clock_->Now(), ""};
  dirty_ = true;
}

void RevisionTracker::HandBack(std::optional<Trigger> trigger) {
  if (!trigger) return;
  std::lock_guard<std::mutex> l(mu_);
  if (!trigger_) trigger_ = std::move(trigger);
}

void RevisionTracker::NoteRevision(const std::string& revision,
                                   const std::optional<Trigger>& trigger) {
  std::lock_guard<std::mutex> l(mu_);
  // A trigger that led this scan to a new revision starts its clock towards
  // the first insert; one that found nothing new is spent.
  if (revision != last_revision_ && trigger) {
    awaiting_first_insert_ = Trigger{trigger->reason, trigger->at, revision};
  }
  last_revision_ = revision;
}

std::optional<RevisionTracker::Trigger> RevisionTracker::TakeFirstInsert() {
  std::lock_guard<std::mutex> l(mu_);
  return std::exchange(awaiting_first_insert_, std::nullopt);
}

}  // namespace gitdisc::reconciler
