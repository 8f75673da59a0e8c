using PfPpo.Bench;

return args switch
{
    ["sandbox", .. var rest] => await SandboxBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: PfPpo.Bench sandbox [--problems N] [--workers N] [--rounds N] [--pool-workers N]");
    return 2;
}
