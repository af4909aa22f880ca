//! `inventory`: the Home Inventory command line. Parses arguments, calls inventory-db,
//! prints the result; maps every error to one `error: …` line and an exit code (PRODUCT §5).
#![doc = include_str!("../README.md")]

mod cli;
mod commands;
mod error;
mod logging;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with code 2.
    let cli = cli::Cli::parse();
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(error::EXIT_PROBLEMS);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("error: {}", e.message);
            }
            ExitCode::from(e.code)
        }
    }
}
