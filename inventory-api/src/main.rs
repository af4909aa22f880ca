//! `inventory-api`: parses the configuration, sets up logging and runs the server.

use std::process::ExitCode;

use clap::Parser;
use inventory_api::{server, Config};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    server::init_logging();
    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inventory-api: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
