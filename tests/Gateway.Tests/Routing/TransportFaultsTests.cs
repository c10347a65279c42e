using Gateway.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Tests.Routing;

public sealed class TransportFaultsTests
{
    [Theory]
    [InlineData(ForwarderError.Request, true)]
    [InlineData(ForwarderError.RequestTimedOut, true)]
    [InlineData(ForwarderError.ResponseBodyDestination, true)]
    [InlineData(ForwarderError.RequestCanceled, false)]
    [InlineData(ForwarderError.RequestBodyClient, false)]
    [InlineData(ForwarderError.ResponseBodyClient, false)]
    [InlineData(ForwarderError.None, false)]
    public void Only_errors_of_the_instance_count_against_it(ForwarderError error, bool destinationFault) =>
        Assert.Equal(destinationFault, TransportFaults.IsDestinationFault(error));

    [Fact]
    public void A_read_refused_before_answering_is_retried_once() =>
        Assert.True(TransportFaults.MayRetry(RequestKind.Read, ForwarderError.Request, responseStarted: false, attempt: 1));

    [Fact]
    public void A_write_is_never_retried_it_may_have_been_applied() =>
        Assert.False(TransportFaults.MayRetry(RequestKind.Write, ForwarderError.Request, responseStarted: false, attempt: 1));

    [Fact]
    public void A_read_whose_answer_has_started_is_not_retried() =>
        Assert.False(TransportFaults.MayRetry(RequestKind.Read, ForwarderError.Request, responseStarted: true, attempt: 1));

    [Fact]
    public void A_read_that_timed_out_is_not_retried_the_instance_may_still_be_working() =>
        Assert.False(TransportFaults.MayRetry(RequestKind.Read, ForwarderError.RequestTimedOut, responseStarted: false, attempt: 1));

    [Fact]
    public void A_retry_is_not_retried_again() =>
        Assert.False(TransportFaults.MayRetry(RequestKind.Read, ForwarderError.Request, responseStarted: false, attempt: 2));
}
