using Gateway.Database.Nodes;

namespace Gateway.Tests.Database;

public sealed class NodeCommandsTests
{
    [Fact]
    public void Placeholders_are_filled_and_values_with_spaces_or_quotes_stay_one_shell_word()
    {
        var command = NodeCommands.Fill("pg_ctl -D {dataDir} -o '-p {port}' -l {dataDir}.log", new Dictionary<string, string>
        {
            ["dataDir"] = "/srv/pg data/it's",
            ["port"] = "5432",
        });

        Assert.Equal("pg_ctl -D '/srv/pg data/it'\\''s' -o '-p 5432' -l '/srv/pg data/it'\\''s'.log", command);
    }
}
