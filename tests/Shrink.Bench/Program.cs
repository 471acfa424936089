// Shrink benchmarks on TorchSharp. Usage:
//   dotnet run -c Release --project tests/Shrink.Bench -- [S|M|vit|workingset|threads|all] [seconds] [--threads N] [--explicit-attention]
// Every result is printed as one line `name value unit`, the format of ../shared/anchors/torch_vit_bench.py, so the
// two programs' outputs can be compared line by line. The thread count is the library's (TorchNative.ThreadsChosen:
// SHRINK_THREADS, else one less than the logical processors) unless `--threads N` sets torch.set_num_threads.
using System.Globalization;
using Shrink.Bench;
using Shrink.Torch;
using TorchSharp;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var positional = new List<string>();
int? threads = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--explicit-attention") { VitBench.FusedAttention = false; continue; }
    if (args[i] != "--threads") { positional.Add(args[i]); continue; }
    if (i + 1 >= args.Length || !int.TryParse(args[++i], CultureInfo.InvariantCulture, out int n) || n < 1)
    {
        Console.Error.WriteLine("Shrink.Bench: --threads needs an integer ≥ 1");
        return 1;
    }
    threads = n;
}
string which = positional.Count > 0 ? positional[0] : "all";
double seconds = positional.Count > 1 ? double.Parse(positional[1], CultureInfo.InvariantCulture) : 5.0;

TorchNative.EnsureLoaded();
if (threads is int t) torch.set_num_threads(t);
torch.manual_seed(0);
Console.WriteLine($"# torch threads {torch.get_num_threads()}, logical processors {Environment.ProcessorCount}");

switch (which)
{
    case "S" or "M":
        VitBench.Run(which, seconds);
        break;
    case "vit":
        VitBench.Run("S", seconds);
        VitBench.Run("M", seconds);
        break;
    case "workingset":
        VitBench.WorkingSetGrowth("S");
        break;
    case "threads":
        ThreadsBench.Run(seconds);
        break;
    case "all":
        // "all" runs every case except `threads` (a one-off comparison).
        VitBench.Run("S", seconds);
        VitBench.Run("M", seconds);
        VitBench.WorkingSetGrowth("S");
        break;
    default:
        Console.Error.WriteLine("usage: Shrink.Bench [S|M|vit|workingset|threads|all] [seconds] [--threads N] [--explicit-attention]");
        return 1;
}
return 0;
