using Gateway.Configuration;
using Gateway.Database;
using Gateway.Tests.Support;

namespace Gateway.Tests.Database.Sessions;

public sealed class PgSessionOptionsTests : IDisposable
{
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();

    public void Dispose() => _settings.Dispose();

    [Fact]
    public void Sessions_pass_through_unless_configured_and_wait_five_seconds_for_a_boundary()
    {
        var options = _settings.Load().Database;

        Assert.Equal(PgSessionMode.PassThrough, options.SessionMode);
        Assert.Equal(TimeSpan.FromSeconds(5), options.SessionMoveTimeout);
    }

    [Fact]
    public void Movable_mode_is_read_from_the_configuration()
    {
        _settings.Values["Gateway:Database:SessionMode"] = "Movable";

        Assert.Equal(PgSessionMode.Movable, _settings.Load().Database.SessionMode);
    }

    [Fact]
    public void An_unknown_mode_is_refused_naming_the_key()
    {
        _settings.Values["Gateway:Database:SessionMode"] = "Sticky";

        Assert.Contains(_settings.Errors(), e => e.Key == "Gateway:Database:SessionMode" && e.Problem.Contains("Sticky"));
    }

    [Theory]
    [InlineData("00:00:00", "greater than zero")]
    [InlineData("00:00:10", "shorter than Gateway:Database:HoldConnectionsFor")]
    public void A_move_timeout_that_is_not_positive_or_not_under_the_connection_hold_is_refused(string value, string problem)
    {
        _settings.Values["Gateway:Database:SessionMoveTimeout"] = value;

        Assert.Contains(_settings.Errors(), e => e.Key == "Gateway:Database:SessionMoveTimeout" && e.Problem.Contains(problem));
    }
}
