// Notebook runs change the process's working directory and Console writers (serialised by the runner); tests that
// write to the console at the same time would leak into a cell's output, so the tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
