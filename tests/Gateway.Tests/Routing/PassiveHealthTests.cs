using Gateway.Configuration;
using Gateway.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tests.Routing;

public sealed class PassiveHealthTests
{
    private static readonly HealthCheckOptions Defaults = new();

    /// <summary>Feeds one instance's requests through the decision, as the policy does; returns the step of each.</summary>
    private static List<PassiveStep> Run(HealthCheckOptions health, params (ForwarderError Error, int Status)[] requests)
    {
        var streaks = FailureStreaks.None;
        var steps = new List<PassiveStep>();
        foreach (var (error, status) in requests)
        {
            var step = PassiveHealth.Next(streaks, error, status, "a1", health);
            steps.Add(step);
            streaks = step.Streaks;
        }

        return steps;
    }

    private static (ForwarderError, int) Answer(int status) => (ForwarderError.None, status);

    private static (ForwarderError, int)[] Answers(int status, int count) => Enumerable.Repeat(Answer(status), count).ToArray();

    [Theory]
    [InlineData(ForwarderError.None, 200, RequestOutcome.Answered)]
    [InlineData(ForwarderError.None, 404, RequestOutcome.Answered)]
    [InlineData(ForwarderError.None, 499, RequestOutcome.Answered)]
    [InlineData(ForwarderError.None, 500, RequestOutcome.ServerError)]
    [InlineData(ForwarderError.None, 503, RequestOutcome.ServerError)]
    [InlineData(ForwarderError.Request, 502, RequestOutcome.TransportFault)]
    [InlineData(ForwarderError.RequestTimedOut, 504, RequestOutcome.TransportFault)]
    [InlineData(ForwarderError.RequestCanceled, 502, RequestOutcome.ClientFault)]
    [InlineData(ForwarderError.ResponseBodyClient, 200, RequestOutcome.ClientFault)]
    public void A_request_is_classified_by_its_forwarding_error_first_then_by_the_answers_status(ForwarderError error, int status, RequestOutcome outcome) =>
        Assert.Equal(outcome, PassiveHealth.Classify(error, status));

    [Fact]
    public void Five_5xx_answers_in_a_row_take_the_instance_out_by_default_on_the_fifth()
    {
        var steps = Run(Defaults, Answers(500, 5));

        Assert.All(steps.Take(4), step => Assert.False(step.TakesOut));
        Assert.Equal(
            "instance a1 taken out of rotation after 5 consecutive 5xx answers (the last 500); it returns in 2 s if its health probes pass",
            steps[4].TakeOutBecause);
        Assert.Equal(FailureStreaks.None, steps[4].Streaks);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(304)]
    [InlineData(404)]
    public void Any_answer_below_500_starts_the_count_again(int status)
    {
        var steps = Run(Defaults, [.. Answers(503, 4), Answer(status), .. Answers(503, 4)]);

        Assert.DoesNotContain(steps, step => step.TakesOut);
        Assert.Equal(new FailureStreaks(0, 4), steps[^1].Streaks);
    }

    [Fact]
    public void Different_5xx_statuses_count_together_and_the_sentence_names_the_last()
    {
        var steps = Run(Defaults, Answer(500), Answer(502), Answer(503), Answer(504), Answer(599));

        Assert.Contains("5 consecutive 5xx answers (the last 599)", steps[4].TakeOutBecause);
    }

    [Fact]
    public void The_count_starts_again_once_the_instance_was_taken_out()
    {
        var steps = Run(Defaults, Answers(500, 9));

        Assert.Single(steps, step => step.TakesOut);
        Assert.Equal(new FailureStreaks(0, 4), steps[^1].Streaks);
    }

    [Fact]
    public void With_the_threshold_at_0_no_number_of_5xx_answers_takes_an_instance_out()
    {
        var off = new HealthCheckOptions { UnhealthyAfterConsecutive5xx = 0 };

        var steps = Run(off, Answers(500, 1000));

        Assert.DoesNotContain(steps, step => step.TakesOut);
        Assert.All(steps, step => Assert.Equal(FailureStreaks.None, step.Streaks));
    }

    [Fact]
    public void A_threshold_of_1_takes_the_instance_out_on_its_first_5xx_answer()
    {
        var steps = Run(new HealthCheckOptions { UnhealthyAfterConsecutive5xx = 1 }, Answer(503));

        Assert.True(steps[0].TakesOut);
    }

    [Fact]
    public void A_transport_fault_takes_the_instance_out_at_its_own_threshold_naming_the_error()
    {
        var steps = Run(Defaults, (ForwarderError.Request, 502));

        Assert.Equal(
            "instance a1 taken out of rotation after 1 consecutive failed request(s) (the last Request); it returns in 2 s if its health probes pass",
            steps[0].TakeOutBecause);
    }

    [Fact]
    public void Transport_faults_and_5xx_answers_are_separate_runs()
    {
        var health = new HealthCheckOptions { UnhealthyAfterRequestFailures = 3 };

        // A fault is not an answer: the 5xx run goes on across it. An answer (5xx included) ends the fault run.
        var steps = Run(health, Answer(500), Answer(500), (ForwarderError.Request, 502), Answer(500), (ForwarderError.Request, 502));

        Assert.DoesNotContain(steps, step => step.TakesOut);
        Assert.Equal(new FailureStreaks(1, 3), steps[^1].Streaks);
    }

    [Fact]
    public void A_clients_own_failure_says_nothing_about_the_5xx_run()
    {
        var steps = Run(Defaults, [.. Answers(500, 4), (ForwarderError.RequestCanceled, 502), Answer(500)]);

        Assert.True(steps[^1].TakesOut);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 0)]
    [InlineData(0, 7)]
    [InlineData(int.MaxValue, int.MaxValue)]
    public void Streaks_survive_packing_into_one_long(int faults, int serverErrors)
    {
        var streaks = new FailureStreaks(faults, serverErrors);
        Assert.Equal(streaks, FailureStreaks.Unpack(streaks.Pack()));
    }
}
