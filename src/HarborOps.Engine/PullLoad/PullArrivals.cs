using System.Globalization;
using HarborOps.Engine.Errors;

namespace HarborOps.Engine.PullLoad;

/// <summary>
/// When the pulls of a load arrive: evenly spaced over a span. A ramp is a scale-out (50 pods scheduled over 10 s); a
/// steady load is a rate held for a duration (2 pulls a second for a minute). Both are the same schedule: pull i arrives
/// at i × span / count.
/// </summary>
public sealed record PullArrivals
{
    private PullArrivals(int count, TimeSpan span, string description)
    {
        Count = count;
        Span = span;
        Description = description;
    }

    public int Count { get; }
    public TimeSpan Span { get; }
    /// <summary>"50 pulls over 10 s" or "2/s for 60 s (120 pulls)".</summary>
    public string Description { get; }

    /// <summary>The longest span a load may have: a measurement, not a soak test.</summary>
    public static readonly TimeSpan MaxSpan = TimeSpan.FromHours(1);
    /// <summary>The most pulls one registry's run may have, -Force or not.</summary>
    public const int MaxPulls = 20_000;

    /// <summary><paramref name="count"/> pulls arriving evenly over <paramref name="over"/> (zero: all at once).</summary>
    public static PullArrivals Ramp(int count, TimeSpan over)
    {
        if (count < 1 || count > MaxPulls) throw Invalid($"-Count {count} is out of range; pass 1 to {MaxPulls} pulls.");
        CheckSpan(over, "-RampUp");
        return new PullArrivals(count, over, $"{count} pulls over {Seconds(over)}");
    }

    /// <summary><paramref name="perSecond"/> pulls a second for <paramref name="duration"/>.</summary>
    public static PullArrivals Steady(double perSecond, TimeSpan duration)
    {
        if (double.IsNaN(perSecond) || perSecond <= 0 || perSecond > 1000) throw Invalid($"-Rate {perSecond} is out of range; pass more than 0 and at most 1000 pulls a second.");
        CheckSpan(duration, "-Duration");
        if (duration <= TimeSpan.Zero) throw Invalid("-Duration must be longer than zero for a steady rate.");
        var count = (int)Math.Min(MaxPulls + 1L, (long)Math.Floor(perSecond * duration.TotalSeconds));
        if (count < 1) throw Invalid($"-Rate {perSecond} for {Seconds(duration)} is less than one pull; raise the rate or the duration.");
        if (count > MaxPulls) throw Invalid($"-Rate {perSecond} for {Seconds(duration)} is more than {MaxPulls} pulls; lower the rate or the duration.");
        return new PullArrivals(count, duration, $"{perSecond.ToString("0.##", CultureInfo.InvariantCulture)}/s for {Seconds(duration)} ({count} pulls)");
    }

    /// <summary>When pull <paramref name="index"/> arrives, from the start of the run.</summary>
    public TimeSpan ArrivalOf(int index) => Count <= 1 ? TimeSpan.Zero : TimeSpan.FromTicks(Span.Ticks / Count * index);

    private static void CheckSpan(TimeSpan span, string parameter)
    {
        if (span < TimeSpan.Zero || span > MaxSpan) throw Invalid($"{parameter} {span} is out of range; pass 0 to {MaxSpan.TotalMinutes:0} minutes.");
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private static HarborOpsException Invalid(string message) => new(PullLoadErrorIds.LoadInvalid, FailureKind.InvalidArgument, message);
}
