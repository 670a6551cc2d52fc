use clap::Parser;
use ficus::cli::Cli;

fn main() -> anyhow::Result<()> {
    ficus::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Some(ficus::cli::Command::Sandbox(args)) => ficus::sandbox::serve::run_blocking(args),
        None => {
            anyhow::bail!("the console is not built yet; see README.md");
        }
    }
}
