namespace Shrink.Tensors.Kernels;

/// <summary>
/// A fixed set of worker threads (one per core beyond the caller's) that runs the engine's parallel loops.
/// Parallel.For costs about a kilobyte of managed allocation and a few microseconds per call; a ViT training step
/// makes thousands of parallel calls, so the engine hands its loops to these long-lived threads instead: a call
/// allocates nothing beyond the caller's delegate, and the caller works on the loop too.
/// A loop started from inside a loop, or while another thread's loop is running, runs inline on its caller, so
/// nesting never deadlocks and results never depend on timing (work is only ever split by index).
/// </summary>
internal static class WorkerPool
{
    private static readonly Lock Gate = new();
    private static readonly int WorkerCount = Math.Max(0, Environment.ProcessorCount - 1);
    private static readonly ManualResetEventSlim[] Wake = new ManualResetEventSlim[WorkerCount];
    private static readonly CountdownEvent Done = new(1);
    private static bool _started;
    [ThreadStatic] private static bool _inside;

    // The job being run: body(i) for i in [0, _count), indices handed out by _next.
    private static Action<int>? _body;
    private static int _count, _next;
    private static Exception? _error;

    /// <summary>Threads that take part in a loop: the workers plus the caller.</summary>
    public static int Parallelism => WorkerCount + 1;

    /// <summary>Runs <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>), spread over the cores; returns when all are done.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || WorkerCount == 0 || _inside || !Gate.TryEnter())
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        try
        {
            if (!_started) Start();
            _body = body; _count = count; _next = 0; _error = null;
            int helpers = Math.Min(WorkerCount, count - 1);
            Done.Reset(helpers);
            for (int w = 0; w < helpers; w++) Wake[w].Set();
            Drain();
            Done.Wait();
            _body = null;
            if (_error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally { Gate.Exit(); }
    }

    /// <summary>Takes indices until none are left (the caller and every woken worker run this).</summary>
    private static void Drain()
    {
        var body = _body!;
        bool wasInside = _inside;
        _inside = true;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            }
        }
        finally { _inside = wasInside; }
    }

    private static void Start()
    {
        for (int w = 0; w < WorkerCount; w++)
        {
            var wake = Wake[w] = new ManualResetEventSlim(false, spinCount: 2000);
            var thread = new Thread(() =>
            {
                while (true)
                {
                    wake.Wait();
                    wake.Reset();
                    Drain();
                    Done.Signal();
                }
            }) { IsBackground = true, Name = $"Shrink worker {w + 1}" };
            thread.Start();
        }
        _started = true;
    }
}
