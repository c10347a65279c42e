using Gateway.Coordinator.Admin;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Coordinator.Admin;

public sealed class FailedAuthLimiterTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly FailedAuthLimiter _limiter;

    public FailedAuthLimiterTests() => _limiter = new FailedAuthLimiter(maxFailures: 3, window: TimeSpan.FromMinutes(1), _time);

    private void Fail(string address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            _limiter.RecordFailure(address);
        }
    }

    [Fact]
    public void Failures_below_the_limit_leave_the_address_allowed()
    {
        Fail("10.0.0.1", 2);

        Assert.False(_limiter.Check("10.0.0.1").LockedOut);
    }

    [Fact]
    public void The_failure_reaching_the_limit_locks_the_address_out_until_the_window_that_began_with_its_first_failure_ends()
    {
        _limiter.RecordFailure("10.0.0.1");
        _time.Advance(TimeSpan.FromSeconds(20));
        _limiter.RecordFailure("10.0.0.1");
        var locking = _limiter.RecordFailure("10.0.0.1");
        _time.Advance(TimeSpan.FromSeconds(10));

        var check = _limiter.Check("10.0.0.1");

        Assert.True(locking);
        Assert.Equal((true, TimeSpan.FromSeconds(30)), (check.LockedOut, check.RetryAfter));
    }

    [Fact]
    public void Only_the_first_refusal_of_a_lockout_is_marked_first()
    {
        Fail("10.0.0.1", 3);

        Assert.Equal([true, false, false], Enumerable.Range(0, 3).Select(_ => _limiter.Check("10.0.0.1").FirstRefusal));
    }

    [Fact]
    public void Once_the_window_has_passed_the_address_is_allowed_again_with_a_fresh_count()
    {
        Fail("10.0.0.1", 3);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.False(_limiter.Check("10.0.0.1").LockedOut);
        Fail("10.0.0.1", 2);
        Assert.False(_limiter.Check("10.0.0.1").LockedOut);
    }

    [Fact]
    public void Failures_spread_wider_than_the_window_never_lock_out()
    {
        for (var i = 0; i < 10; i++)
        {
            Fail("10.0.0.1", 2);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.False(_limiter.Check("10.0.0.1").LockedOut);
    }

    [Fact]
    public void Addresses_are_counted_apart()
    {
        Fail("10.0.0.1", 3);

        Assert.True(_limiter.Check("10.0.0.1").LockedOut);
        Assert.False(_limiter.Check("10.0.0.2").LockedOut);
    }

    [Fact]
    public void Beyond_the_tracked_addresses_new_ones_share_one_count_so_a_flood_of_addresses_is_still_limited()
    {
        for (var i = 0; i < FailedAuthLimiter.MaxTrackedAddresses; i++)
        {
            _limiter.RecordFailure($"10.{i / 65536}.{i / 256 % 256}.{i % 256}");
        }

        Fail("192.0.2.1", 1);
        Fail("192.0.2.2", 1);
        Fail("192.0.2.3", 1);

        Assert.True(_limiter.Check("192.0.2.4").LockedOut);
        Assert.False(_limiter.Check("10.0.0.1").LockedOut);
    }

    [Fact]
    public void Expired_addresses_are_forgotten_so_new_ones_are_tracked_on_their_own_again()
    {
        for (var i = 0; i < FailedAuthLimiter.MaxTrackedAddresses; i++)
        {
            _limiter.RecordFailure($"10.{i / 65536}.{i / 256 % 256}.{i % 256}");
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        Fail("192.0.2.1", 3);

        Assert.True(_limiter.Check("192.0.2.1").LockedOut);
        Assert.False(_limiter.Check("192.0.2.2").LockedOut);
    }
}
