//! Who is calling: the token convention of spec §7.3 and the roles it grants.
//!
//! `X-Auth-Token: <user>:<project>[:<role>[,<role>…]]`. User `admin` defaults
//! to `admin,member,reader`, everyone else to `member,reader`. Admin status
//! follows the `admin` role.

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub project: String,
    pub roles: Vec<String>,
}

impl Caller {
    /// Parse a test-deployment token. `None` for an empty or unusable token.
    pub fn from_token(token: &str) -> Option<Caller> {
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        let mut parts = token.splitn(3, ':');
        let user = parts.next().filter(|u| !u.is_empty())?.to_string();
        let project = match parts.next() {
            Some(p) if !p.is_empty() => p.to_string(),
            Some(_) => return None,
            None => user.clone(),
        };
        let roles = match parts.next() {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            None if user == "admin" => vec!["admin".into(), "member".into(), "reader".into()],
            None => vec!["member".into(), "reader".into()],
        };
        Some(Caller {
            user,
            project,
            roles,
        })
    }

    /// The token string that stands for this caller.
    pub fn token(&self) -> String {
        format!("{}:{}:{}", self.user, self.project, self.roles.join(","))
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    /// `project_member_or_admin` (spec §1.5).
    pub fn may_write(&self) -> bool {
        self.is_admin() || self.has_role("member")
    }

    /// `project_reader_or_admin` (spec §1.5).
    pub fn may_read(&self) -> bool {
        self.may_write() || self.has_role("reader")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_roles_follow_the_user() {
        let admin = Caller::from_token("admin:p1").expect("token");
        assert!(admin.is_admin() && admin.may_write());
        let demo = Caller::from_token("demo:p1").expect("token");
        assert!(!demo.is_admin() && demo.may_write() && demo.may_read());
        let reader = Caller::from_token("r:p1:reader").expect("token");
        assert!(!reader.may_write() && reader.may_read());
    }

    #[test]
    fn project_defaults_to_user_and_empty_is_refused() {
        assert_eq!(
            Caller::from_token("abc").map(|c| c.project),
            Some("abc".into())
        );
        assert_eq!(Caller::from_token(""), None);
        assert_eq!(Caller::from_token("u:"), None);
        assert_eq!(Caller::from_token(":p"), None);
    }
}
