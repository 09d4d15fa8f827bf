//! A writer task's status and the moves between them, in one place:
//!
//! ```text
//! queued ──generate──▶ generating ──done──▶ draft ⇄ review ⇄ ready ──publish──▶ publishing ──▶ published
//!    ▲                     │ failed for good                ▲                      │ failed / unpublished
//!    └──── failed ◀────────┘ (draft again if it had an article)└──────────────────────┘ (status before)
//! ```

crate::text_enum! {
    /// `tasks.status`.
    pub enum TaskStatus {
        Queued = "queued",
        Generating = "generating",
        Draft = "draft",
        Review = "review",
        Ready = "ready",
        Publishing = "publishing",
        Published = "published",
        Failed = "failed",
    }
}

impl TaskStatus {
    /// The statuses an editor moves a written article between.
    pub const WRITTEN: [TaskStatus; 3] = [TaskStatus::Draft, TaskStatus::Review, TaskStatus::Ready];

    /// Has an article an editor works on (draft, review or ready).
    pub fn is_written(self) -> bool {
        matches!(self, TaskStatus::Draft | TaskStatus::Review | TaskStatus::Ready)
    }

    /// May be generated (again): anything but a generation already under way.
    pub fn can_generate(self) -> bool {
        !matches!(self, TaskStatus::Generating)
    }

    /// May be edited in the editor (a published article too: editing does not take it off the site).
    pub fn can_edit(self) -> bool {
        self.is_written() || self == TaskStatus::Published
    }

    /// Where a generation that failed for good leaves the task: its article, if it had one, is still there.
    pub fn after_failed_generation(had_article: bool) -> TaskStatus {
        if had_article { TaskStatus::Draft } else { TaskStatus::Failed }
    }

    /// What an editor's save keeps: a published article stays published; otherwise the status chosen.
    pub fn after_edit(self, chosen: TaskStatus) -> TaskStatus {
        if self == TaskStatus::Published { self } else { chosen }
    }

    /// The status restoring a version returns to: an editor status stays, anything else becomes a draft.
    pub fn after_restore(self) -> TaskStatus {
        if self.is_written() { self } else { TaskStatus::Draft }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moves_of_a_task() {
        assert!(TaskStatus::Failed.can_generate() && !TaskStatus::Generating.can_generate());
        assert_eq!(TaskStatus::after_failed_generation(true), TaskStatus::Draft);
        assert_eq!(TaskStatus::after_failed_generation(false), TaskStatus::Failed);
        assert_eq!(TaskStatus::Published.after_edit(TaskStatus::Draft), TaskStatus::Published);
        assert_eq!(TaskStatus::Review.after_edit(TaskStatus::Ready), TaskStatus::Ready);
        assert_eq!(TaskStatus::Failed.after_restore(), TaskStatus::Draft);
        assert_eq!(TaskStatus::WRITTEN.iter().filter(|s| s.is_written()).count(), 3);
        assert!(!TaskStatus::Queued.can_edit() && TaskStatus::Published.can_edit());
    }
}
