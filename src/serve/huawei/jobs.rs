//! Jobs of the Huawei v1 batch actions: `POST /v1/{p}/cloudservers/action`
//! answers `{"job_id": ...}` and `GET /v1/{p}/jobs/{job_id}` reports it
//! (`ShowJob`).
//!
//! The mock applies an action at once, so a job is finished when it is
//! recorded: `SUCCESS` when every server's sub-job succeeded, else `FAIL`
//! with each failed sub-job's error code and reason. Job and sub-job type
//! names follow Huawei's `batch…Server` naming [unverified]. The book keeps
//! the most recent [`JobBook::CAPACITY`] jobs so it never grows without
//! bound.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};

use crate::endpoint::sign::SdkDate;
use crate::model::server::ServerAction;

/// A job's or sub-job's state as `ShowJob` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Success,
    Fail,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Success => "SUCCESS",
            JobStatus::Fail => "FAIL",
        }
    }
}

/// Why one server's part of a batch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubJobError {
    /// The service code, e.g. `Ecs.0100`.
    pub code: String,
    pub reason: String,
}

/// One server's part of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubJob {
    pub job_id: String,
    pub server_id: String,
    pub error: Option<SubJobError>,
}

impl SubJob {
    pub fn status(&self) -> JobStatus {
        if self.error.is_some() {
            JobStatus::Fail
        } else {
            JobStatus::Success
        }
    }
}

/// One batch action as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub project: String,
    /// `batchStopServer` or `batchStartServer`.
    pub job_type: &'static str,
    pub begin: SdkDate,
    pub end: SdkDate,
    pub sub_jobs: Vec<SubJob>,
}

impl Job {
    pub fn status(&self) -> JobStatus {
        if self
            .sub_jobs
            .iter()
            .all(|s| s.status() == JobStatus::Success)
        {
            JobStatus::Success
        } else {
            JobStatus::Fail
        }
    }

    /// The `ShowJob` body.
    pub fn to_json(&self) -> Value {
        let sub_type = match self.job_type {
            "batchStopServer" => "stopServer",
            "batchStartServer" => "startServer",
            other => other,
        };
        let sub_jobs: Vec<Value> = self
            .sub_jobs
            .iter()
            .map(|sub| {
                json!({
                    "job_id": sub.job_id,
                    "job_type": sub_type,
                    "status": sub.status().as_str(),
                    "begin_time": self.begin.rfc3339(),
                    "end_time": self.end.rfc3339(),
                    "entities": {"server_id": sub.server_id},
                    "error_code": sub.error.as_ref().map(|e| e.code.as_str()),
                    "fail_reason": sub.error.as_ref().map(|e| e.reason.as_str()),
                })
            })
            .collect();
        let first_error = self.sub_jobs.iter().find_map(|s| s.error.as_ref());
        json!({
            "job_id": self.id,
            "job_type": self.job_type,
            "status": self.status().as_str(),
            "begin_time": self.begin.rfc3339(),
            "end_time": self.end.rfc3339(),
            "entities": {"sub_jobs_total": sub_jobs.len(), "sub_jobs": sub_jobs},
            "error_code": first_error.map(|e| e.code.as_str()),
            "fail_reason": first_error.map(|e| e.reason.as_str()),
        })
    }
}

/// The type name of a batch action's job; `None` for actions v1 has no
/// batch form of.
pub fn job_type(action: &ServerAction) -> Option<&'static str> {
    match action {
        ServerAction::Stop => Some("batchStopServer"),
        ServerAction::Start => Some("batchStartServer"),
        _ => None,
    }
}

/// The jobs of one `serve` process, newest last.
#[derive(Debug, Clone, Default)]
pub struct JobBook {
    jobs: BTreeMap<String, Job>,
    order: VecDeque<String>,
}

impl JobBook {
    /// Jobs kept; the oldest is forgotten beyond this.
    pub const CAPACITY: usize = 4096;

    /// Record a finished batch: one sub-job per `(server id, result)`.
    /// Returns the job id.
    pub fn record(
        &mut self,
        project: &str,
        job_type: &'static str,
        results: Vec<(String, Option<SubJobError>)>,
        at: SdkDate,
    ) -> String {
        let id = new_job_id();
        let sub_jobs = results
            .into_iter()
            .map(|(server_id, error)| SubJob {
                job_id: new_job_id(),
                server_id,
                error,
            })
            .collect();
        let job = Job {
            id: id.clone(),
            project: project.to_string(),
            job_type,
            begin: at,
            end: at,
            sub_jobs,
        };
        self.jobs.insert(id.clone(), job);
        self.order.push_back(id.clone());
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.jobs.remove(&old);
            }
        }
        id
    }

    /// A job of `project` (another project's job is not found).
    pub fn get(&self, project: &str, id: &str) -> Option<&Job> {
        self.jobs.get(id).filter(|job| job.project == project)
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

/// Huawei job ids are 32 lower-case hex digits.
fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> SdkDate {
        SdkDate::parse("20261123T030000Z").unwrap()
    }

    #[test]
    fn a_clean_batch_succeeds_and_renders_show_job() {
        let mut book = JobBook::default();
        let id = book.record(
            "p1",
            "batchStopServer",
            vec![("s1".into(), None), ("s2".into(), None)],
            at(),
        );
        assert_eq!(id.len(), 32);
        let job = book.get("p1", &id).unwrap();
        assert_eq!(job.status(), JobStatus::Success);
        let body = job.to_json();
        assert_eq!(body["status"], "SUCCESS");
        assert_eq!(body["job_id"], id.as_str());
        assert_eq!(body["job_type"], "batchStopServer");
        assert_eq!(body["begin_time"], "2026-11-23T03:00:00Z");
        assert_eq!(body["entities"]["sub_jobs_total"], 2);
        assert_eq!(
            body["entities"]["sub_jobs"][1]["entities"]["server_id"],
            "s2"
        );
        assert_eq!(body["entities"]["sub_jobs"][0]["job_type"], "stopServer");
        assert_eq!(body["error_code"], Value::Null);
    }

    #[test]
    fn one_failed_server_fails_the_job() {
        let mut book = JobBook::default();
        let error = SubJobError {
            code: "Ecs.0100".into(),
            reason: "ECS status does not meet requirements".into(),
        };
        let id = book.record(
            "p1",
            "batchStartServer",
            vec![("s1".into(), None), ("s2".into(), Some(error))],
            at(),
        );
        let body = book.get("p1", &id).unwrap().to_json();
        assert_eq!(body["status"], "FAIL");
        assert_eq!(body["error_code"], "Ecs.0100");
        assert_eq!(body["entities"]["sub_jobs"][0]["status"], "SUCCESS");
        assert_eq!(body["entities"]["sub_jobs"][1]["status"], "FAIL");
        assert_eq!(
            body["entities"]["sub_jobs"][1]["fail_reason"],
            "ECS status does not meet requirements"
        );
    }

    #[test]
    fn jobs_are_private_to_their_project_and_the_book_is_bounded() {
        let mut book = JobBook::default();
        let first = book.record("p1", "batchStopServer", vec![], at());
        assert!(book.get("p2", &first).is_none());
        assert!(book.get("p1", "no-such-job").is_none());
        for _ in 0..JobBook::CAPACITY {
            book.record("p1", "batchStopServer", vec![], at());
        }
        assert_eq!(book.len(), JobBook::CAPACITY);
        assert!(
            book.get("p1", &first).is_none(),
            "the oldest job is forgotten"
        );
    }

    #[test]
    fn only_stop_and_start_have_batch_jobs() {
        assert_eq!(job_type(&ServerAction::Stop), Some("batchStopServer"));
        assert_eq!(job_type(&ServerAction::Start), Some("batchStartServer"));
        assert_eq!(job_type(&ServerAction::Pause), None);
    }
}
