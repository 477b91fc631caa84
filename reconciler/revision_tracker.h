// RevisionTracker: which revision the controller acts on, and why it looked
// (DESIGN.md §7 "Revisions"). It polls the Source when a trigger asked for
// it (webhook, poll timer, API), stays on the newest VALID revision, reports
// the source's state to the StatusWriter, and times the first insert of a
// new revision from the trigger that found it (ControllerHooks::first_insert).
//
// Thread-safety: safe from any thread. Locking: mu_ guards the trigger
// bookkeeping and is a leaf; source_mu_ serialises every use of the Source
// (which is single-threaded: a fetch, a validation walk, a load) and is held
// only around those calls, never together with mu_.
#ifndef GITDISC_RECONCILER_REVISION_TRACKER_H_
#define GITDISC_RECONCILER_REVISION_TRACKER_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "reconciler/status_writer.h"
#include "specs/source.h"

namespace gitdisc::reconciler {

class RevisionTracker {
 public:
  // What made the controller look at the source, and when.
  struct Trigger {
    std::string reason;
    Clock::TimePoint at;
    std::string revision;  // once a scan found a new revision through it
  };

  RevisionTracker(specs::Source* source, const Clock* clock, StatusWriter* status);

  // The snapshot at `rev`, or (rev empty) at the newest valid revision,
  // polling first when a trigger asked for it; `trigger` receives that
  // trigger. kInvalid when the branch has no valid revision (the message
  // carries the first diagnostic, or the signature problem), or when an
  // explicit `rev` fails signature verification (checked before its specs
  // are read).
  Result<std::shared_ptr<const specs::Snapshot>> SnapshotAt(const std::string& rev,
                                                            std::optional<Trigger>* trigger);

  // The source may have changed: poll at the next scan.
  void NotifySourceChanged(std::string_view reason);
  // A dry scan took `trigger` but acts on nothing: the next one gets it.
  void HandBack(std::optional<Trigger> trigger);
  // An executing scan planned `revision`, reached through `trigger`: a new
  // revision starts the clock towards its first insert.
  void NoteRevision(const std::string& revision, const std::optional<Trigger>& trigger);
  // The first disc of the revision being timed went in: that trigger, once.
  std::optional<Trigger> TakeFirstInsert();

 private:
  specs::Source* source_;
  const Clock* clock_;
  StatusWriter* status_;

  std::mutex source_mu_;  // one Source call at a time

  std::mutex mu_;  // guards everything below
  bool dirty_ = true;
  std::optional<Trigger> trigger_;
  std::optional<Trigger> awaiting_first_insert_;
  std::string last_revision_;
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_REVISION_TRACKER_H_
