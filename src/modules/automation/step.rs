//! The steps automation runs. `Step` is a workspace step of the pipeline (settings, runs, picks); `Scheduled` is
//! everything the scheduler beats for: the workspace steps, WordPress status sync, cleanup and the backup. Matches on them
//! are exhaustive, so a new step cannot silently fall into another step's branch.

crate::text_enum! {
    /// A workspace step, in pipeline order.
    pub enum Step {
        Cluster = "cluster",
        Ideas = "ideas",
        Content = "content",
        Images = "images",
        Publish = "publish",
    }
}

crate::text_enum! {
    /// What the scheduler runs on a cadence (system settings `cron.<word>`).
    pub enum Scheduled {
        Cluster = "cluster",
        Ideas = "ideas",
        Content = "content",
        Images = "images",
        Publish = "publish",
        Sync = "sync",
        Cleanup = "cleanup",
        // Last: a database dump may take minutes, and a beat runs its due steps one after another.
        Backup = "backup",
    }
}

impl Step {
    /// What one item of the step is, for labels.
    pub fn unit(self) -> &'static str {
        match self {
            Step::Cluster => "keywords",
            Step::Ideas => "clusters",
            Step::Content | Step::Images | Step::Publish => "tasks",
        }
    }

    pub fn scheduled(self) -> Scheduled {
        match self {
            Step::Cluster => Scheduled::Cluster,
            Step::Ideas => Scheduled::Ideas,
            Step::Content => Scheduled::Content,
            Step::Images => Scheduled::Images,
            Step::Publish => Scheduled::Publish,
        }
    }
}

impl Scheduled {
    /// The workspace step this is, if it is one.
    pub fn step(self) -> Option<Step> {
        match self {
            Scheduled::Cluster => Some(Step::Cluster),
            Scheduled::Ideas => Some(Step::Ideas),
            Scheduled::Content => Some(Step::Content),
            Scheduled::Images => Some(Step::Images),
            Scheduled::Publish => Some(Step::Publish),
            Scheduled::Sync | Scheduled::Cleanup | Scheduled::Backup => None,
        }
    }

    /// Its cadence's key in the system settings.
    pub fn cron_key(self) -> String {
        format!("cron.{}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_scheduled_as_itself() {
        for s in Step::ALL {
            assert_eq!(s.scheduled().step(), Some(*s));
            assert_eq!(s.scheduled().as_str(), s.as_str());
        }
        assert_eq!(Scheduled::ALL.iter().filter(|s| s.step().is_none()).count(), 3);
    }
}
