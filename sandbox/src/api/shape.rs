//! The reply shapes the contract leaves open, chosen by the sandbox's switches so that clients are
//! tested against each: whether roles reveal their permissions (Auth0 organization roles do not),
//! and whether an invitation's `roles` are role names or role ids.

use crate::{
    model::{Invitation, InvitationView, MemberView, Role, RoleView},
    world::Data,
    SandboxConfig,
};

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    roles_without_permissions: bool,
    invitation_roles_as_ids: bool,
}

impl Shape {
    pub fn of(config: &SandboxConfig) -> Self {
        Self {
            roles_without_permissions: config.roles_without_permissions,
            invitation_roles_as_ids: config.invitation_roles_as_ids,
        }
    }

    pub fn role(self, role: Role) -> RoleView {
        self.role_view(role.into())
    }

    /// A member with each embedded role shaped as the roles list shapes it.
    pub fn member(self, member: MemberView) -> MemberView {
        MemberView {
            roles: member
                .roles
                .into_iter()
                .map(|role| self.role_view(role))
                .collect(),
            ..member
        }
    }

    pub fn invitation(self, data: &Data, invitation: &Invitation) -> InvitationView {
        let view = data.invitation_view(invitation);
        if self.invitation_roles_as_ids {
            InvitationView {
                roles: invitation.role_ids.clone(),
                ..view
            }
        } else {
            view
        }
    }

    fn role_view(self, role: RoleView) -> RoleView {
        if self.roles_without_permissions {
            RoleView {
                permissions: None,
                ..role
            }
        } else {
            role
        }
    }
}
