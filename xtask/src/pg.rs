//! Finding a PostgreSQL server for tests (PRODUCT §7): `INVENTORY_TEST_PG`, then
//! 127.0.0.1:5432 if it answers, then a throwaway cluster started with the machine's
//! `initdb`/`pg_ctl` in a temporary directory on a free port, stopped and removed on drop.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

/// A server tests may use.
#[derive(Debug)]
pub(crate) struct PgServer {
    /// Administrative URL (database `postgres`).
    pub url: String,
    /// Where it came from, for the log line.
    pub origin: &'static str,
    cluster: Option<TempCluster>,
}

#[derive(Debug)]
struct TempCluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres_user: bool,
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin, "pg_ctl", self.as_postgres_user)
            .args(["-D"])
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn answers(host_port: &str) -> bool {
    host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// Finds or starts a server; `None` when this machine has no PostgreSQL at all.
pub(crate) fn find_or_start() -> anyhow::Result<Option<PgServer>> {
    if let Some(url) = std::env::var("INVENTORY_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return Ok(Some(PgServer {
            url,
            origin: "INVENTORY_TEST_PG",
            cluster: None,
        }));
    }
    if answers("127.0.0.1:5432") {
        return Ok(Some(PgServer {
            url: inventory_db::testing::DEFAULT_TEST_PG.to_string(),
            origin: "127.0.0.1:5432",
            cluster: None,
        }));
    }
    match find_bin_dir() {
        Some(bin) => start_cluster(&bin).map(Some),
        None => Ok(None),
    }
}

fn find_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

/// `initdb` refuses to run as root: then the cluster belongs to the `postgres` user.
fn pg_command(bin: &Path, tool: &str, as_postgres_user: bool) -> Command {
    if as_postgres_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn start_cluster(bin: &Path) -> anyhow::Result<PgServer> {
    let as_postgres_user = is_root();
    let dir = std::env::temp_dir().join(format!("inventory-pg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if as_postgres_user {
        let status = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir)
            .status()?;
        if !status.success() {
            bail!("cannot hand {} to the postgres user", dir.display());
        }
    }
    let cluster = TempCluster {
        bin: bin.to_path_buf(),
        dir: dir.clone(),
        as_postgres_user,
    };
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    eprintln!(
        "xtask: starting a throwaway PostgreSQL cluster on port {port} ({})",
        bin.display()
    );
    let out = pg_command(bin, "initdb", as_postgres_user)
        .arg("-D")
        .arg(dir.join("data"))
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ])
        .output()
        .context("running initdb")?;
    if !out.status.success() {
        bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
        dir.display()
    );
    let out = pg_command(bin, "pg_ctl", as_postgres_user)
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-o", &options, "-l"])
        .arg(dir.join("log"))
        .args(["-w", "start"])
        .output()
        .context("running pg_ctl start")?;
    if !out.status.success() {
        bail!(
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(PgServer {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        origin: "a throwaway cluster",
        cluster: Some(cluster),
    })
}

impl PgServer {
    /// True when this server was started here and is removed afterwards.
    pub(crate) fn is_throwaway(&self) -> bool {
        self.cluster.is_some()
    }
}
