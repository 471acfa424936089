using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static Shrink.Tests.Models.ModelTestUtil;

namespace Shrink.Tests.Models;

public class ResNetCnnTests
{
    [Fact]
    public void ShapesOnFashionMnistAndCifarSizedInputs()
    {
        var m = ResNetCnn.Create("resnet8_w16", seed: 1);
        var x = Images(3, 1, 28, 28, 1);
        AssertShape(m.ForwardFeatures(x), 3, 64, 7, 7);
        AssertShape(m.ForwardHead(m.ForwardFeatures(x), preLogits: true), 3, 64);
        AssertShape(m.forward(x), 3, 10);
        Assert.Equal(64, m.NumFeatures);

        var c = ResNetCnn.Create("resnet8_w16", inChannels: 3, numClasses: 100, imageSize: 32, seed: 1);
        var xc = Images(2, 3, 32, 32, 2);
        AssertShape(c.ForwardFeatures(xc), 2, 64, 8, 8);
        AssertShape(c.forward(xc), 2, 100);
    }

    [Fact]
    public void ParameterNamesFollowTorchvision()
    {
        var m = ResNetCnn.Create("resnet8_w16");
        var sd = m.state_dict();
        AssertShape(sd["conv1.weight"], 16, 1, 3, 3);
        AssertShape(sd["bn1.weight"], 16);
        AssertShape(sd["bn1.running_mean"], 16);
        AssertShape(sd["layer1.0.conv1.weight"], 16, 16, 3, 3);
        AssertShape(sd["layer1.0.bn1.bias"], 16);
        AssertShape(sd["layer2.0.conv1.weight"], 32, 16, 3, 3);
        AssertShape(sd["layer2.0.conv2.weight"], 32, 32, 3, 3);
        AssertShape(sd["layer2.0.downsample.0.weight"], 32, 16, 1, 1);
        AssertShape(sd["layer2.0.downsample.1.running_var"], 32);
        AssertShape(sd["layer3.0.downsample.0.weight"], 64, 32, 1, 1);
        AssertShape(sd["fc.weight"], 10, 64);
        AssertShape(sd["fc.bias"], 10);
        Assert.DoesNotContain(sd.Keys, k => k.StartsWith("layer1.0.downsample", StringComparison.Ordinal));
        Assert.DoesNotContain(sd.Keys, k => k.EndsWith("conv1.bias", StringComparison.Ordinal));
        Assert.Equal("conv1.weight", sd.Keys.First());
        Assert.Equal("fc.bias", m.named_parameters().Last().name);
        Assert.Contains("layer3.0.downsample.1.num_batches_tracked", sd.Keys);
        var resnet20 = ResNetCnn.Create("resnet20_w16").state_dict();
        Assert.Contains("layer3.2.bn2.weight", resnet20.Keys);
        Assert.DoesNotContain("layer3.3.bn2.weight", resnet20.Keys);
    }

    [Fact]
    public void NamesParseInTimmGrammar()
    {
        var c = ResNetCnnConfig.FromName("resnet20_w16");
        Assert.Equal((3, 16, 3), (c.BlocksPerStage, c.Width, c.Stages));
        Assert.Equal("resnet20_w16", c.Name);
        Assert.Equal("resnet8_w32", ResNetCnnConfig.FromName("resnet8_w32").Name);
        Assert.Equal("resnet10_w8_s2", ResNetCnnConfig.FromName("resnet10_w8_s2").Name);
        Assert.Equal(2, ResNetCnnConfig.FromName("resnet10_w8_s2").BlocksPerStage);
        foreach (var name in ResNetCnn.ModelNames) Assert.Equal(name, ResNetCnnConfig.FromName(name).Name);
        Assert.Contains("not 2·3·n + 2", Assert.Throws<ArgumentException>(() => ResNetCnnConfig.FromName("resnet9_w16")).Message);
        Assert.Contains("unknown model name 'resnet'", Assert.Throws<ArgumentException>(() => ResNetCnn.Create("resnet")).Message);
    }

    [Fact]
    public void CountsMatchHandCalculation()
    {
        var m = ResNetCnn.Create("resnet8_w16");
        long stem = 1 * 16 * 9 + 2 * 16;
        long layer1 = 16 * 16 * 9 + 32 + 16 * 16 * 9 + 32;
        long layer2 = 16 * 32 * 9 + 64 + 32 * 32 * 9 + 64 + 16 * 32 + 64;
        long layer3 = 32 * 64 * 9 + 128 + 64 * 64 * 9 + 128 + 32 * 64 + 128;
        long head = 64 * 10 + 10;
        Assert.Equal(77_754, stem + layer1 + layer2 + layer3 + head);
        Assert.Equal(77_754, m.AnalyticParameterCount);
        Assert.Equal(77_754, m.ParameterCount());

        long macs = 28 * 28 * 16 * 1 * 9                                               // stem
            + 2 * (28 * 28 * 16 * 16 * 9)                                               // layer1
            + 14 * 14 * 32 * 16 * 9 + 14 * 14 * 32 * 32 * 9 + 14 * 14 * 32 * 16        // layer2 with projection
            + 7 * 7 * 64 * 32 * 9 + 7 * 7 * 64 * 64 * 9 + 7 * 7 * 64 * 32              // layer3 with projection
            + 64 * 10;                                                                  // fc
        Assert.Equal(9_345_920, macs);
        Assert.Equal(2 * macs, m.Flops());
        Assert.Equal(2 * macs * 128, m.Flops(128));

        foreach (var cfg in new[]
        {
            ResNetCnnConfig.FromName("resnet14_w16"),
            ResNetCnnConfig.FromName("resnet20_w16", inChannels: 3, numClasses: 100, imageSize: 32),
            new ResNetCnnConfig(Width: 8, Stages: 2, ZeroInitResidual: true),
        })
        {
            var model = new ResNetCnn(cfg);
            Assert.Equal(model.ParameterCount(), model.AnalyticParameterCount);
        }
        Assert.InRange(ResNetCnn.Create("resnet20_w16").ParameterCount(), 100_000, 300_000);
    }

    [Fact]
    public void SameSeedSameWeightsAndZeroInitResidual()
    {
        var a = new ResNetCnn(seed: 5).state_dict();
        var b = new ResNetCnn(seed: 5).state_dict();
        var c = new ResNetCnn(seed: 6).state_dict();
        Assert.All(a.Keys, k => Assert.Equal(Values(a[k]), Values(b[k])));
        Assert.NotEqual(Values(a["layer1.0.conv1.weight"]), Values(c["layer1.0.conv1.weight"]));
        // Kaiming normal, fan_out = 16·9: std √(2/144) ≈ 0.118.
        var w = Values(a["layer1.0.conv1.weight"]);
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.118 * 0.85, 0.118 * 1.15);
        var z = new ResNetCnn(new ResNetCnnConfig(ZeroInitResidual: true)).state_dict();
        Assert.All(Values(z["layer2.0.bn2.weight"]), v => Assert.Equal(0f, v));
        Assert.All(Values(z["layer2.0.bn1.weight"]), v => Assert.Equal(1f, v));
        Assert.All(Values(z["layer2.0.bn1.running_var"]), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void BatchNormStatisticsAreBuffersInTheStateDict()
    {
        var m = ResNetCnn.Create("resnet8_w16", seed: 1);
        var buffers = m.named_buffers().Select(b => b.name).ToList();
        Assert.Contains("bn1.running_mean", buffers);
        Assert.Contains("layer2.0.downsample.1.running_var", buffers);
        Assert.DoesNotContain(m.named_parameters(), p => p.name.Contains("running", StringComparison.Ordinal));
        var before = Values(m.Bn1.running_mean!);
        m.train();
        using (no_grad()) m.forward(Images(4, 1, 28, 28, 7));
        Assert.NotEqual(before, Values(m.Bn1.running_mean!));
    }

    [Fact]
    public void StateDictRoundTrip() =>
        AssertStateDictRoundTrip(new ResNetCnn(seed: 1), new ResNetCnn(seed: 2), Images(4, 1, 28, 28, 3));

    [Fact]
    public void ForwardBackwardReachesEveryParameter() =>
        AssertForwardBackward(new ResNetCnn(seed: 1), Images(4, 1, 28, 28, 4), Targets(0, 3, 7, 9));

    [Fact]
    public void RejectsWrongInputWithShapeInMessage()
    {
        var m = new ResNetCnn();
        var e = Assert.Throws<ArgumentException>(() => m.forward(zeros(2, 3, 28, 28)));
        Assert.Contains("(2, 3, 28, 28)", e.Message);
        Assert.Contains("(B, 1, H, W)", e.Message);
        Assert.Throws<ArgumentException>(() => new ResNetCnn(new ResNetCnnConfig(Width: 0)));
    }

    [Fact]
    public void TinyConfigLearnsFixedBatch()
    {
        var (x, y) = FixedBatch(16);
        var (first, last) = TrainSteps(new ResNetCnn(new ResNetCnnConfig(Width: 4, Stages: 2), 1), x, y, steps: 8, lr: 3e-2);
        Assert.True(last < 0.7f * first, $"loss {first} -> {last}");
    }

    /// <summary>The default model reaches > 90% eval-mode train accuracy on 64 fixed images (about 25 AdamW steps).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void OverfitsSixtyFourImages()
    {
        var (x, y) = FixedBatch();
        var model = new ResNetCnn(seed: 1);
        var (accuracy, steps) = Overfit(model, x, y, maxSteps: 60, lr: 1e-2);
        Assert.True(accuracy > 0.9, $"train accuracy {accuracy:P1} after {steps} steps");
    }
}
