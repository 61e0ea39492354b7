//! The mock's state: the two projects and their servers.
//!
//! Tokens carry no state (spec §7.3: the token names user, project and
//! roles), so the world is only servers. The handler holds the world's mutex
//! across read, decide and write of one request, which makes writes to one
//! server linearizable.

use std::collections::BTreeMap;

use crate::model::Metadata;
use crate::model::server::ServerRecord;

/// The two projects a `serve` process creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projects {
    pub main: String,
    pub alt: String,
}

impl Projects {
    /// Two fresh project ids: hex UUIDs without dashes (Nova routes only
    /// `[0-9a-f-]+` as a project segment).
    pub fn generate() -> Projects {
        Projects {
            main: uuid::Uuid::new_v4().simple().to_string(),
            alt: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

/// All servers, by id.
#[derive(Debug, Clone, Default)]
pub struct World {
    servers: BTreeMap<String, ServerRecord>,
}

impl World {
    /// `count` servers in each project.
    pub fn seeded(projects: &Projects, count: usize) -> World {
        let mut world = World::default();
        for project in [&projects.main, &projects.alt] {
            for n in 1..=count {
                world.create(project, &format!("metaconform-{n}"), Metadata::new());
            }
        }
        world
    }

    /// Create an active, launched server and return its id.
    pub fn create(&mut self, project: &str, name: &str, metadata: Metadata) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.servers
            .insert(id.clone(), ServerRecord::new(&id, project, name, metadata));
        id
    }

    /// How many servers exist, in every project.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&ServerRecord> {
        self.servers.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut ServerRecord> {
        self.servers.get_mut(id)
    }

    /// Put `server` in the world as it is (a twin of a real server).
    pub fn insert(&mut self, server: ServerRecord) {
        self.servers.insert(server.id.clone(), server);
    }

    pub fn remove(&mut self, id: &str) -> Option<ServerRecord> {
        self.servers.remove(id)
    }

    /// Servers of one project, in id order.
    pub fn in_project<'w>(&'w self, project: &'w str) -> impl Iterator<Item = &'w ServerRecord> {
        self.servers
            .values()
            .filter(move |s| s.project_id == project)
    }

    /// Ids of one project's servers.
    pub fn ids(&self, project: &str) -> Vec<String> {
        self.in_project(project).map(|s| s.id.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_gives_each_project_its_servers() {
        let projects = Projects::generate();
        assert_ne!(projects.main, projects.alt);
        assert!(crate::serve::routes::is_project_segment(&projects.main));
        let world = World::seeded(&projects, 3);
        assert_eq!(world.ids(&projects.main).len(), 3);
        assert_eq!(world.ids(&projects.alt).len(), 3);
        let id = &world.ids(&projects.main)[0];
        assert!(uuid::Uuid::parse_str(id).is_ok());
        assert!(world.get(id).is_some_and(|s| s.project_id == projects.main));
    }
}
