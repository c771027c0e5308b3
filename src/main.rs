//! The `luutru` binary: parses the command line, sets up logging and signals, and calls
//! the library. Everything else lives in the library (`luutru::cli`).

use std::io::IsTerminal;

use clap::Parser;
use luutru::cli::{self, Cli, LogFormat};
use tracing_subscriber::EnvFilter;

/// glibc's malloc arenas a process may create. By default it is 8 per core: a crawl
/// parses and writes pages on many threads, and every arena kept the freed memory of the
/// pages it had served, so resident memory grew with the run (175 against 126 MB peak for a
/// 2,000-page crawl; benches/README.md, "Crawl").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS: libc::c_int = 2;

fn main() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a glibc tunable; it is called before any other thread
    // exists. A refusal (return 0) leaves glibc's default, which is harmless.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                cli::EXIT_USAGE
            } else {
                cli::EXIT_OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(cli::EXIT_ERROR);
        }
    };
    let code = runtime.block_on(async {
        match cli::run(cli, shutdown_signal()).await {
            Ok(code) => code,
            // A closed pipe (`luutru query | head`) is the reader's choice, not an error.
            Err(luutru::Error::WriteOutput(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                cli::EXIT_OK
            }
            Err(e) => {
                let code = cli::exit_code(&e);
                eprintln!("error: {:#}", anyhow::Error::new(e));
                code
            }
        }
    });
    std::process::exit(code);
}

fn init_logging(cli: &Cli) {
    let default = if cli.quiet {
        "warn"
    } else {
        "warn,luutru=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// Resolves on the first Ctrl-C or SIGTERM; a second one ends the process at once (the
/// store stays consistent: every page is committed atomically, and the next run resumes).
async fn shutdown_signal() {
    wait_signal().await;
    tokio::spawn(async {
        wait_signal().await;
        eprintln!("second signal: exiting now");
        std::process::exit(cli::EXIT_INTERRUPTED);
    });
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
