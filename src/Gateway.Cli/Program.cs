using Gateway.Cli;

// Ctrl+C stops the waiting, not the gateway's operation: the command says so and exits 130.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, press) =>
{
    press.Cancel = true;
    interrupted.Cancel();
};
return await Gatewayctl.RunAsync(args, Console.Out, Console.Error, CliEnvironment.OfProcess(), interrupted.Token);
