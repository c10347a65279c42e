using Gateway.Configuration;

namespace Gateway.Coordinator.Hooks;

public sealed partial class SwitchHooks
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{When} hook of {Step} ({Command}) succeeded in {Milliseconds} ms")]
        public static partial void Succeeded(ILogger logger, HookWhen when, string step, string command, long milliseconds);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{When} hook of {Step} ({Command}) failed: {Outcome}; its output:\n{Output}")]
        public static partial void Failed(ILogger logger, HookWhen when, string step, string command, string outcome, string output);
    }
}
