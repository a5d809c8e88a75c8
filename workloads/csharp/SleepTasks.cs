// csharp: one Task per task, the article's
// Task.Run(async () => { await Task.Delay(TimeSpan.FromSeconds(...)); }),
// each delaying SECONDS; then awaits Task.WhenAll of them.
//
// usage: SleepTasks.exe N [SECONDS]   (SECONDS defaults to 10)
//
// Built with mono's mcs, which implements C# up to 7.2 minus `async Main`
// (C# 7.1): Main therefore blocks on the async body with
// GetAwaiter().GetResult(), which is what the C# compiler generates for an
// async Main anyway.
using System;
using System.Collections.Generic;
using System.Threading.Tasks;

static class SleepTasks
{
    const string Name = "csharp";
    const long MaxTasks = 1000000000L;
    const long MaxSeconds = 86400L;

    // Read by every task rather than captured: the article's lambda captures
    // nothing, so the compiler caches one delegate; a captured local would
    // allocate a closure and a delegate per task.
    static long seconds = 10;

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
        try
        {
            if (args.Length == 0)
                throw new UsageError("missing N");
            if (args.Length > 2)
                throw new UsageError("too many arguments");
            n = (int)Count(args[0], "N", MaxTasks);
            if (args.Length == 2)
                seconds = Count(args[1], "SECONDS", MaxSeconds);
        }
        catch (UsageError e)
        {
            Console.Error.WriteLine(Name + ": " + e.Message + " (usage: " + Name + " N [SECONDS])");
            return 2;
        }
        Run(n).GetAwaiter().GetResult();
        return 0;
    }

    static async Task Run(int n)
    {
        List<Task> tasks = new List<Task>();
        for (int i = 0; i < n; i++)
        {
            Task task = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds));
            });
            tasks.Add(task);
        }
        await Task.WhenAll(tasks);
    }
}
