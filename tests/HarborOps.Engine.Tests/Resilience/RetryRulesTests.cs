using System.Net.Http.Headers;
using HarborOps.Engine.Resilience;
using Xunit;

namespace HarborOps.Engine.Tests.Resilience;

/// <summary>The one set of retry rules every HTTP client of the engine follows (registries, Harbor, blob transfers).</summary>
public sealed class RetryRulesTests
{
    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(499)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(522)]
    public void Throttling_and_transient_server_statuses_are_retried(int status) => Assert.True(new RetryRules().IsRetried(status));

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(412)]
    [InlineData(501)]
    [InlineData(505)]
    public void Answers_that_a_retry_cannot_change_are_not_retried(int status) => Assert.False(new RetryRules().IsRetried(status));

    [Fact]
    public void The_defaults_are_five_retries_one_second_doubling_to_thirty_and_two_minutes_of_Retry_After()
    {
        var rules = new RetryRules();
        Assert.Equal(5, rules.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(1), rules.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), rules.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), rules.MaxRetryAfter);
    }

    [Fact]
    public void The_backoff_doubles_with_jitter_and_stops_at_the_cap()
    {
        var rules = new RetryRules { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(1000) };
        for (var retry = 0; retry < 40; retry++)
        {
            var nominal = Math.Min(100 * Math.Pow(2, Math.Min(retry, 20)), 1000);
            for (var sample = 0; sample < 20; sample++)
                Assert.InRange(rules.BackoffDelay(retry).TotalMilliseconds, nominal * 0.8 - 0.001, nominal * 1.2 + 0.001);
        }
    }

    [Fact]
    public void Retry_After_in_seconds_is_the_wait()
    {
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(TimeSpan.FromSeconds(7), RetryRules.RetryAfterOf(RetryConditionHeaderValue.Parse("7"), now));
        Assert.Equal(TimeSpan.Zero, RetryRules.RetryAfterOf(RetryConditionHeaderValue.Parse("0"), now));
    }

    [Fact]
    public void Retry_After_as_an_HTTP_date_waits_until_that_moment_and_a_past_date_not_at_all()
    {
        var now = new DateTimeOffset(2030, 1, 2, 3, 4, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(5), RetryRules.RetryAfterOf(RetryConditionHeaderValue.Parse("Wed, 02 Jan 2030 03:04:05 GMT"), now));
        Assert.Equal(TimeSpan.Zero, RetryRules.RetryAfterOf(RetryConditionHeaderValue.Parse("Wed, 02 Jan 2030 03:03:00 GMT"), now));
        Assert.Null(RetryRules.RetryAfterOf(null, now));
    }

    [Fact]
    public void A_Retry_After_beyond_the_longest_accepted_wait_is_not_waited_out()
    {
        var rules = new RetryRules { MaxRetryAfter = TimeSpan.FromSeconds(30) };
        Assert.True(rules.WaitsOut(TimeSpan.FromSeconds(30)));
        Assert.False(rules.WaitsOut(TimeSpan.FromSeconds(31)));
    }
}
