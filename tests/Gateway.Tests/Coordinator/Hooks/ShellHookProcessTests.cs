using Gateway.Coordinator.Hooks;

namespace Gateway.Tests.Coordinator.Hooks;

/// <summary>The hook runner on real /bin/sh commands: exit codes, merged and bounded output, environment, stdin, timeouts.</summary>
public sealed class ShellHookProcessTests : IDisposable
{
    private static readonly Dictionary<string, string> NoVariables = [];
    private readonly ShellHookProcess _runner = new(TimeProvider.System);
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-hook-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<HookProcessResult> RunAsync(string command, Dictionary<string, string>? environment = null, double timeoutSeconds = 10) =>
        _runner.RunAsync(command, environment ?? NoVariables, TimeSpan.FromSeconds(timeoutSeconds), CancellationToken.None);

    [Fact]
    public async Task The_exit_code_and_stdout_and_stderr_in_the_order_written_are_kept()
    {
        var result = await RunAsync("echo one; echo two >&2; echo three; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.Equal("one\ntwo\nthree\n", result.Output);
    }

    [Fact]
    public async Task A_command_that_exits_zero_succeeds()
    {
        var result = await RunAsync("true");

        Assert.True(result.Succeeded, result.Output);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task The_environment_reaches_the_command()
    {
        var result = await RunAsync("printf '%s %s' \"$GATEWAY_STEP\" \"$GATEWAY_TO_SITE\"", new() { ["GATEWAY_STEP"] = "move-database", ["GATEWAY_TO_SITE"] = "B" });

        Assert.Equal("move-database B", result.Output);
    }

    [Fact]
    public async Task Only_the_last_4_KiB_of_a_long_output_are_kept_and_the_rest_is_counted()
    {
        // 1..20000, one per line: 108,894 characters.
        var result = await RunAsync("seq 1 20000");

        Assert.True(result.Succeeded);
        Assert.EndsWith("19999\n20000\n", result.Output);
        Assert.StartsWith($"[{108894 - ShellHookProcess.OutputLimit} earlier characters omitted]\n", result.Output);
        Assert.Equal(ShellHookProcess.OutputLimit, result.Output[(result.Output.IndexOf('\n') + 1)..].Length);
    }

    [Fact]
    public async Task A_command_reading_stdin_sees_its_end_instead_of_waiting()
    {
        var result = await RunAsync("cat; echo read-all");

        Assert.True(result.Succeeded, result.Output);
        Assert.Equal("read-all\n", result.Output);
    }

    [Fact]
    public async Task A_timeout_kills_the_whole_process_group_not_just_the_shell()
    {
        var childPidFile = Path.Combine(_directory, "child.pid");
        var result = await RunAsync($"sleep 300 & echo $! > {childPidFile}; echo started; wait", timeoutSeconds: 1);

        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.Equal("started\n", result.Output);
        var child = int.Parse(await File.ReadAllTextAsync(childPidFile));
        Assert.True(await IsGoneAsync(child), $"the hook's background child {child} still runs");
    }

    [Fact]
    public async Task A_command_that_does_not_exist_fails_with_the_shells_words()
    {
        var result = await RunAsync("no-such-command-here");

        Assert.Equal(127, result.ExitCode);
        Assert.Contains("not found", result.Output);
    }

    /// <summary>A killed process whose parent died too is reaped by init; until then it is a zombie, which runs no more.</summary>
    private static async Task<bool> IsGoneAsync(int pid)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat) || (await File.ReadAllTextAsync(stat)).Split(')')[1].Trim().StartsWith('Z'))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}
