using Gateway.Routing;

namespace Gateway.Tests.Routing;

public sealed class RetryableAnswersTests
{
    [Theory]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(500, false)]
    [InlineData(501, false)]
    [InlineData(505, false)]
    [InlineData(200, false)]
    [InlineData(429, false)]
    public void Only_gateway_errors_are_worth_another_instance(int status, bool retryable) =>
        Assert.Equal(retryable, RetryableAnswers.IsRetryableStatus(status));

    [Fact]
    public void A_503_to_a_read_without_a_body_is_held_back_when_another_instance_is_left() =>
        Assert.True(RetryableAnswers.HoldBack(503, requestHasBody: false, otherInstanceLeft: true));

    [Fact]
    public void An_answer_is_passed_on_when_no_other_instance_could_take_the_retry() =>
        Assert.False(RetryableAnswers.HoldBack(503, requestHasBody: false, otherInstanceLeft: false));

    [Fact]
    public void A_read_with_a_body_is_not_retried_after_an_answer_its_body_was_consumed() =>
        Assert.False(RetryableAnswers.HoldBack(503, requestHasBody: true, otherInstanceLeft: true));

    [Fact]
    public void A_500_is_passed_on_it_may_be_the_requests_own_fault() =>
        Assert.False(RetryableAnswers.HoldBack(500, requestHasBody: false, otherInstanceLeft: true));
}
