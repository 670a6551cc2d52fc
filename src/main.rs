use clap::Parser;
use ficus::cli::Cli;

fn main() -> anyhow::Result<std::process::ExitCode> {
    ficus::install_crypto_provider();
    let cli = Cli::parse();
    if cli.command.is_none() {
        anyhow::bail!("the console is not built yet; see README.md");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    Ok(runtime.block_on(ficus::commands::run(cli)))
}
