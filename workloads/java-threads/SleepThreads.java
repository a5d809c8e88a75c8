import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * java-threads: one platform (OS) thread per task, {@code new Thread(...)}
 * with default settings, each sleeping SECONDS; then joins them all.
 *
 * <p>usage: SleepThreads N [SECONDS] (SECONDS defaults to 10)
 *
 * <p>The sleep is {@code Thread.sleep(millis)} rather than
 * {@code Thread.sleep(Duration)}: the latter only exists from JDK 19 on, this
 * file must also compile on the JDK 17 fallback, and on JDK 19+ both end in
 * the same internal sleep.
 */
public final class SleepThreads {
    private static final String NAME = "java-threads";
    private static final long MAX_TASKS = 1_000_000_000L;
    private static final long MAX_SECONDS = 86_400L;

    /**
     * SECONDS in milliseconds, read by every thread rather than captured: the
     * article's lambda captures nothing (one instance of it for all threads).
     */
    private static long millis = 10_000L;

    private static void fail(String problem) {
        System.err.println(NAME + ": " + problem + " (usage: " + NAME + " N [SECONDS])");
        System.exit(2);
    }

    /** Digits only (no sign, no blanks), value at most max. */
    private static long count(String s, String what, long max) {
        boolean ok = !s.isEmpty() && s.length() <= 18;
        for (int i = 0; ok && i < s.length(); i++) {
            ok = s.charAt(i) >= '0' && s.charAt(i) <= '9';
        }
        if (!ok || Long.parseLong(s) > max) {
            fail(what + " must be an integer from 0 to " + max + ", got '" + s + "'");
        }
        return Long.parseLong(s);
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 0) {
            fail("missing N");
        } else if (args.length > 2) {
            fail("too many arguments");
        }
        int n = (int) count(args[0], "N", MAX_TASKS);
        long secs = args.length == 2 ? count(args[1], "SECONDS", MAX_SECONDS) : 10;
        millis = Duration.ofSeconds(secs).toMillis();

        // The article's loop: an ArrayList grown by add.
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread thread = new Thread(() -> {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
    }
}
