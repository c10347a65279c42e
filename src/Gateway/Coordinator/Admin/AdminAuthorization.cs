using System.Globalization;
using Gateway.Observability;

namespace Gateway.Coordinator.Admin;

/// <summary>
/// The bearer-token check of every /admin route, behind the failed-attempt limiter: a locked-out address gets 429
/// with Retry-After before its token is looked at; otherwise the token is compared in constant time, and a wrong or
/// missing one is counted against the address and answered 401.
/// </summary>
public static partial class AdminAuthorization
{
    public static async ValueTask<object?> RequireTokenAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var services = http.RequestServices;
        var limiter = services.GetRequiredService<FailedAuthLimiter>();
        var metrics = services.GetRequiredService<AdminApiMetrics>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminAuthorization));
        var caller = AdminCall.CallerOf(http);

        var lockout = limiter.Check(caller);
        if (lockout.LockedOut)
        {
            metrics.AuthRefused(lockedOut: true);
            var seconds = Math.Max(1, (int)Math.Ceiling(lockout.RetryAfter.TotalSeconds));
            if (lockout.FirstRefusal)
            {
                Log.LockedOutRefused(logger, http.Request.Method, http.Request.Path, caller, seconds);
            }
            else if (http.Features.Get<AdminCall>() is { } call)
            {
                // The first refusal of a lockout is audited; auditing every one would let a flood fill the disk. The metric counts them all.
                call.SkipAudit = true;
            }

            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return AdminRequests.Problem(
                StatusCodes.Status429TooManyRequests,
                $"too many failed admin authentications from {caller}: every call from it is refused, without looking at the token, for {seconds} s more");
        }

        var token = services.GetRequiredService<AdminToken>();
        if (token.Matches(AdminToken.FromAuthorizationHeader(http.Request.Headers.Authorization)))
        {
            return await next(invocation);
        }

        var lockedNow = limiter.RecordFailure(caller);
        metrics.AuthRefused(lockedOut: false);
        Log.Unauthorized(logger, http.Request.Method, http.Request.Path, caller);
        if (lockedNow)
        {
            Log.LockedOut(logger, caller);
        }

        http.Response.Headers.WWWAuthenticate = "Bearer";
        return AdminRequests.Problem(StatusCodes.Status401Unauthorized, "missing or wrong admin token (Authorization: Bearer <token>)");
    }
}
