use clap::Parser;

#[tokio::main]
async fn main() {
    igny8::memory::tune();
    let cli = igny8::cli::Cli::parse();
    if let Err(e) = igny8::cli::run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
