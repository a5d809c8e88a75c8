// csharp: one Task per task, Task.Run(async () => await Task.Delay(...)),
// each delaying SECONDS; then awaits Task.WhenAll of them.
//
// usage: SleepTasks.exe N [SECONDS]   (SECONDS defaults to 10)
//
// Built with mono's mcs, which implements C# up to 7.2 minus `async Main`
// (C# 7.1): Main therefore blocks on the async body with
// GetAwaiter().GetResult(), which is what the C# compiler generates for an
// async Main anyway.
using System;
using System.Threading.Tasks;

static class SleepTasks
{
    const string Name = "csharp";
    const long MaxTasks = 1000000000L;
    const long MaxSeconds = 86400L;

    sealed class UsageError : Exception
    {
        public UsageError(string problem) : base(problem) { }
    }

    // Digits only (no sign, no blanks), value at most max.
    static long Count(string s, string what, long max)
    {
        bool ok = s.Length > 0 && s.Length <= 18;
        foreach (char c in s)
            ok = ok && c >= '0' && c <= '9';
        if (!ok || long.Parse(s) > max)
            throw new UsageError(what + " must be an integer from 0 to " + max + ", got '" + s + "'");
        return long.Parse(s);
    }

    static int Main(string[] args)
    {
        int n;
        long secs = 10;
        try
        {
            if (args.Length == 0)
                throw new UsageError("missing N");
            if (args.Length > 2)
                throw new UsageError("too many arguments");
            n = (int)Count(args[0], "N", MaxTasks);
            if (args.Length == 2)
                secs = Count(args[1], "SECONDS", MaxSeconds);
        }
        catch (UsageError e)
        {
            Console.Error.WriteLine(Name + ": " + e.Message + " (usage: " + Name + " N [SECONDS])");
            return 2;
        }
        Run(n, TimeSpan.FromSeconds(secs)).GetAwaiter().GetResult();
        return 0;
    }

    static async Task Run(int n, TimeSpan delay)
    {
        var tasks = new Task[n];
        for (int i = 0; i < n; i++)
            tasks[i] = Task.Run(async () => await Task.Delay(delay));
        await Task.WhenAll(tasks);
    }
}
