using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static Shrink.Tests.Models.ModelTestUtil;

namespace Shrink.Tests.Models;

public class LeNet300100Tests
{
    [Fact]
    public void ShapesForImagesAndFlatInput()
    {
        var m = new LeNet300100(seed: 1);
        var x = Images(5, 1, 28, 28, 1);
        var y = m.forward(x);
        AssertShape(y, 5, 10);
        Assert.Equal(Values(y), Values(m.forward(x.reshape(5, 784))));
        Assert.Contains("(5, 1, 27, 28)", Assert.Throws<ArgumentException>(() => m.forward(zeros(5, 1, 27, 28))).Message);
        Assert.Throws<ArgumentException>(() => m.forward(zeros(784)));
    }

    [Fact]
    public void NamesCountsAndInit()
    {
        var m = LeNet300100.Create("mnist_lenet_300_100", seed: 2);
        var sd = m.state_dict();
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"], sd.Keys);
        var again = LeNet300100.Create("lenet_300_100", seed: 2).state_dict();
        Assert.All(sd.Keys, k => Assert.Equal(Values(sd[k]), Values(again[k])));
        AssertShape(sd["fc1.weight"], 300, 784);
        AssertShape(sd["fc2.weight"], 100, 300);
        AssertShape(sd["fc3.weight"], 10, 100);
        long expected = 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10;
        Assert.Equal(266_610, expected);
        Assert.Equal(expected, m.ParameterCount());
        Assert.Equal(expected, m.AnalyticParameterCount);
        Assert.Equal(2L * (784 * 300 + 300 * 100 + 100 * 10), m.Flops());
        Assert.Equal(532_400L * 3, m.Flops(3));
        Assert.Equal("lenet_300_100", m.Config.Name);
        // open_lth's kaiming_normal: std √(2/784) ≈ 0.0505 for fc1.
        var w = Values(sd["fc1.weight"]);
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.0505 * 0.97, 0.0505 * 1.03);
        // PyTorch default (KaimingNormalInit = false): U(−1/√784, 1/√784), std 1/√(3·784) ≈ 0.0206.
        var d = Values(new LeNet300100(new LeNet300100Config(KaimingNormalInit: false)).Fc1.weight!);
        Assert.InRange(Math.Sqrt(d.Select(v => (double)v * v).Average()), 0.0206 * 0.97, 0.0206 * 1.03);
        Assert.Contains("unknown model name", Assert.Throws<ArgumentException>(() => LeNet300100.Create("lenet5")).Message);
    }

    [Fact]
    public void StateDictRoundTrip() =>
        AssertStateDictRoundTrip(new LeNet300100(seed: 1), new LeNet300100(seed: 2), Images(4, 1, 28, 28, 3));

    [Fact]
    public void ForwardBackwardReachesEveryParameter() =>
        AssertForwardBackward(new LeNet300100(seed: 1), Images(4, 1, 28, 28, 4), Targets(0, 1, 2, 3));

    [Fact]
    public void OverfitsSixtyFourImages()
    {
        var (x, y) = FixedBatch();
        var model = new LeNet300100(seed: 1);
        var (accuracy, steps) = Overfit(model, x, y, maxSteps: 60, lr: 1e-3);
        Assert.True(accuracy > 0.9, $"train accuracy {accuracy:P1} after {steps} steps");
    }
}
