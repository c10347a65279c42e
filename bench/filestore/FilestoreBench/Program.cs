using FilestoreBench;

// FilestoreBench lag [--rate 200] [--size 65536] [--seconds 60] [--parallel 4] [--root DIR]
// FilestoreBench initial-sync [--files 10000] [--bytes 1073741824] [--parallel 4] [--root DIR]
// Prints one result line per measurement ("key value" pairs) for run.sh to collect.
var arguments = Arguments.Parse(args.Skip(1));
return args.FirstOrDefault() switch
{
    "lag" => await LagBenchmark.RunAsync(arguments),
    "initial-sync" => await InitialSyncBenchmark.RunAsync(arguments),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FilestoreBench lag|initial-sync [--name value ...] (see Program.cs)");
    return 2;
}
