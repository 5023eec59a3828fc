// The scripts' one calling convention: `run(async (params) => answer)`. Parameters come as
// JSON in argv[2]; the answer goes to stdout as one JSON object. A thrown error is printed as
// {"error", "code", "oauth_error", "status"} with exit code 1, so the test can assert on it.
export async function run(main) {
  const params = JSON.parse(process.argv[2] ?? "{}");
  try {
    process.stdout.write(JSON.stringify(await main(params)));
  } catch (error) {
    process.stdout.write(
      JSON.stringify({
        error: String(error?.message ?? error),
        code: error?.code ?? null,
        oauth_error: error?.error ?? null,
        status: error?.status ?? null,
      }),
    );
    process.exitCode = 1;
  }
}
