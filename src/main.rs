use clap::Parser;
use ficus::cli::Cli;

fn main() -> anyhow::Result<()> {
    ficus::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        None => {
            anyhow::bail!("the console is not built yet; see README.md");
        }
    }
}
