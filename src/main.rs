use clap::Parser;
use ficus::cli::{Cli, Command};

fn main() -> anyhow::Result<std::process::ExitCode> {
    ficus::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Sandbox(mut args)) => {
            args.json = cli.global.json;
            ficus::sandbox::serve::run_blocking(args)?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        None => {
            anyhow::bail!("the console is not built yet; see README.md");
        }
        Some(_) => {
            let runtime = tokio::runtime::Runtime::new()?;
            Ok(runtime.block_on(ficus::commands::run(cli)))
        }
    }
}
