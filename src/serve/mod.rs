//! `metaconform serve`: the reference mock server, an HTTP face over
//! [`crate::model`] for the Nova-shaped dialects.
//!
//! Layers: [`message`] (request/response values), [`routes`] (mounts and
//! route tables per profile family), [`world`] (projects and servers),
//! [`app`] (the synchronous handler) with [`metadata`], [`servers`],
//! [`flavors`] and [`versions`] handlers, [`respond`] (status codes, error bodies, headers),
//! [`faults`] (deliberate deviations), [`listener`] (hyper glue),
//! [`raw_target`] (raw request-target bytes read as eventlet reads them) and
//! [`cli`] (flags). [`spawn`] embeds the server in another program (the
//! runner uses it when no endpoint is given).

pub mod app;
pub mod cli;
pub mod faults;
pub mod flavors;
pub mod huawei;
pub mod listener;
pub mod message;
pub mod metadata;
pub mod raw_target;
pub mod respond;
pub mod routes;
pub mod servers;
pub mod startup;
pub mod tags;
pub mod versions;
pub mod webob;
pub mod world;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use crate::profile::Profile;

pub use app::App;
pub use faults::{Fault, FaultInfo, FaultKind, list_faults};
pub use startup::StartupInfo;

/// What to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub profile: Profile,
    /// Servers per project (the alt project gets as many).
    pub servers: usize,
    pub faults: Vec<Fault>,
    /// Seed for rate-based faults (`reset`, `error500`).
    pub seed: u64,
}

impl ServeConfig {
    /// A fault-free configuration.
    pub fn new(listen: SocketAddr, profile: Profile, servers: usize) -> ServeConfig {
        ServeConfig {
            listen,
            profile,
            servers,
            faults: Vec::new(),
            seed: 0,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    App(#[from] app::AppError),
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    info: StartupInfo,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The startup line's values (endpoint, tokens, servers).
    pub fn info(&self) -> &StartupInfo {
        &self.info
    }

    /// The in-process handler, for callers that want to skip HTTP.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Stop accepting, drop open connections, wait for the accept loop.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Bind `config.listen` and serve in the background.
pub async fn spawn(config: ServeConfig) -> Result<RunningServer, ServeError> {
    let app = Arc::new(App::new(
        config.profile,
        config.servers,
        config.faults,
        config.seed,
    )?);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let info = startup_info(&app, local);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(listener::run(listener, app.clone(), stopped));
    Ok(RunningServer {
        info,
        app,
        stop,
        task,
    })
}

/// The startup line for `app` listening on `addr`.
pub fn startup_info(app: &App, addr: SocketAddr) -> StartupInfo {
    let profile = app.profile();
    let projects = app.projects();
    let (ak, sk) = app.huawei().access_key(&projects.main).unzip();
    let endpoint_path = profile
        .file
        .endpoint_path
        .replace("{project}", &projects.main);
    StartupInfo {
        endpoint: format!("http://{addr}{endpoint_path}"),
        project_id: projects.main.clone(),
        token: format!("demo:{}", projects.main),
        admin_token: format!("admin:{}", projects.main),
        reader_token: format!("reader:{}:reader", projects.main),
        alt_token: format!("alt:{}", projects.alt),
        alt_project_id: projects.alt.clone(),
        servers: app.server_ids(&projects.main),
        alt_servers: app.server_ids(&projects.alt),
        dialect: profile.id().to_string(),
        ak,
        sk,
    }
}
