//! Roles and what each may do. `TenantCtx::require` is the one guard every route calls; the matrix below
//! is the single source, and docs/ARCHITECTURE.md shows it as a table.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Admin,
    Editor,
    Viewer,
    /// API tokens for automation and cron callers; never signs in to pages.
    SystemBot,
}

impl Role {
    pub const MEMBER_ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
            Role::SystemBot => "system_bot",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "viewer" => Some(Role::Viewer),
            "system_bot" => Some(Role::SystemBot),
            _ => None,
        }
    }

    /// A role a membership may hold (system_bot belongs to tokens only).
    pub fn parse_member(s: &str) -> Option<Role> {
        Role::parse(s).filter(|r| *r != Role::SystemBot)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Editor => "Editor",
            Role::Viewer => "Viewer",
            Role::SystemBot => "System bot",
        }
    }

    pub fn allows(self, perm: Perm) -> bool {
        use Perm::*;
        use Role::*;
        match perm {
            ViewWorkspace => true,
            EditContent => matches!(self, Owner | Admin | Editor | SystemBot),
            RunAutomation => matches!(self, Owner | Admin | SystemBot),
            ManageSites | ManageSettings | ManageTeam | ManageTokens | ViewAudit | ViewBilling => {
                matches!(self, Owner | Admin)
            }
            ManageBilling | ManageOwners => matches!(self, Owner),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Read every module's pages and lists.
    ViewWorkspace,
    /// Create and change planner/writer content, run AI actions.
    EditContent,
    /// Change automation settings and trigger runs.
    RunAutomation,
    ManageSites,
    ManageSettings,
    /// Invite, change roles, remove members.
    ManageTeam,
    ManageTokens,
    ViewAudit,
    ViewBilling,
    /// Change plan, payment details.
    ManageBilling,
    /// Grant or take away the owner role.
    ManageOwners,
}

impl Perm {
    pub const ALL: [Perm; 11] = [
        Perm::ViewWorkspace,
        Perm::EditContent,
        Perm::RunAutomation,
        Perm::ManageSites,
        Perm::ManageSettings,
        Perm::ManageTeam,
        Perm::ManageTokens,
        Perm::ViewAudit,
        Perm::ViewBilling,
        Perm::ManageBilling,
        Perm::ManageOwners,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_spot_checks() {
        assert!(Role::Owner.allows(Perm::ManageBilling));
        assert!(!Role::Admin.allows(Perm::ManageBilling));
        assert!(Role::Admin.allows(Perm::ViewBilling));
        assert!(Role::Admin.allows(Perm::ManageTeam));
        assert!(!Role::Editor.allows(Perm::ManageTeam));
        assert!(Role::Editor.allows(Perm::EditContent));
        for p in Perm::ALL {
            assert_eq!(Role::Viewer.allows(p), p == Perm::ViewWorkspace, "{p:?}");
        }
        assert!(!Role::SystemBot.allows(Perm::ManageTeam));
        assert!(Role::SystemBot.allows(Perm::RunAutomation));
    }

    #[test]
    fn parse_roles() {
        assert_eq!(Role::parse_member("editor"), Some(Role::Editor));
        assert_eq!(Role::parse_member("system_bot"), None);
        assert_eq!(Role::parse("root"), None);
    }
}
