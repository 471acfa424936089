using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>The transformer MLP (timm <c>Mlp</c>): fc1 → GELU (exact erf) → dropout → fc2 → dropout.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Dropout drop;

    /// <summary>D → hidden.</summary>
    public Linear Fc1 => fc1;
    /// <summary>hidden → D.</summary>
    public Linear Fc2 => fc2;

    /// <summary>Creates the MLP D → <paramref name="hidden"/> → D with dropout rate <paramref name="drop"/> after each layer.</summary>
    public Mlp(int dim, int hidden, float drop = 0f) : base(nameof(Mlp))
    {
        fc1 = nn.Linear(dim, hidden);
        fc2 = nn.Linear(hidden, dim);
        this.drop = nn.Dropout(drop);
        RegisterComponents();
    }

    /// <summary>(…, D) → (…, D).</summary>
    public override Tensor forward(Tensor x)
    {
        var h = drop.forward(nn.functional.gelu(fc1.forward(x)));   // (…, hidden)
        return drop.forward(fc2.forward(h));                         // (…, D)
    }
}
