import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * java-virtual: one virtual thread per task,
 * {@code Thread.startVirtualThread(...)} (JDK 21+), each sleeping SECONDS;
 * then joins them all. Default settings: the virtual threads run on the
 * default ForkJoinPool carrier scheduler (one carrier per core).
 *
 * <p>usage: SleepVirtual N [SECONDS] (SECONDS defaults to 10)
 */
public final class SleepVirtual {
    private static final String NAME = "java-virtual";
    private static final long MAX_TASKS = 1_000_000_000L;
    private static final long MAX_SECONDS = 86_400L;

    /**
     * SECONDS, read by every task rather than captured: the article's lambda
     * captures nothing, so the JVM makes one instance of it; a captured local
     * would allocate a lambda object per task.
     */
    private static Duration duration = Duration.ofSeconds(10);

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
        duration = Duration.ofSeconds(secs);

        // The article's loop: an ArrayList grown by add.
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread thread = Thread.startVirtualThread(() -> {
                try {
                    Thread.sleep(duration);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
    }
}
