namespace HarborOps.Lab.Harbor;

/// <summary>
/// The six-field cron Harbor's scheduler takes (robfig/cron with seconds, src/common/utils CronParser), enough of it for
/// the lab: numbers, '*', '?', lists, ranges and steps. Names of months and days are not understood.
/// </summary>
internal static class LabCron
{
    private static readonly (int Min, int Max)[] Ranges = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];

    public static bool Valid(string[] fields) => fields.Length == 6 && fields.Select((f, i) => Values(f, Ranges[i]) is not null).All(x => x);

    /// <summary>The next minute after <paramref name="after"/> the cron fires (seconds field taken as 0), within a year.</summary>
    public static DateTimeOffset? Next(string cron, DateTimeOffset after)
    {
        var fields = cron.Split(' ');
        if (!Valid(fields)) return null;
        var sets = fields.Select((f, i) => Values(f, Ranges[i])!).ToArray();
        var t = new DateTimeOffset(after.UtcDateTime.Year, after.UtcDateTime.Month, after.UtcDateTime.Day, after.UtcDateTime.Hour, after.UtcDateTime.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        for (var i = 0; i < 366 * 24 * 60; i++, t = t.AddMinutes(1))
            if (sets[1].Contains(t.Minute) && sets[2].Contains(t.Hour) && sets[3].Contains(t.Day) && sets[4].Contains(t.Month) && sets[5].Contains((int)t.DayOfWeek))
                return t;
        return null;
    }

    private static HashSet<int>? Values(string field, (int Min, int Max) range)
    {
        var result = new HashSet<int>();
        foreach (var part in field.Split(','))
        {
            var step = 1;
            var body = part;
            if (part.Split('/') is [var b, var s])
            {
                if (!int.TryParse(s, out step) || step < 1) return null;
                body = b;
            }
            int low, high;
            if (body is "*" or "?") (low, high) = range;
            else if (body.Split('-') is [var l, var h] && int.TryParse(l, out low) && int.TryParse(h, out high)) { }
            else if (int.TryParse(body, out low)) high = part.Contains('/') ? range.Max : low;
            else return null;
            if (low < range.Min || high > range.Max || low > high) return null;
            for (var v = low; v <= high; v += step) result.Add(v);
        }
        return result;
    }
}
