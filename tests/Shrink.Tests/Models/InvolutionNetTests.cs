using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static Shrink.Tests.Models.ModelTestUtil;

namespace Shrink.Tests.Models;

public class InvolutionNetTests
{
    [Fact]
    public void ShapesOnFashionMnistAndCifarSizedInputs()
    {
        var m = InvolutionNet.Create("rednet11_w16", seed: 1);
        var x = Images(3, 1, 28, 28, 1);
        AssertShape(m.ForwardFeatures(x), 3, 256, 7, 7);
        AssertShape(m.ForwardHead(m.ForwardFeatures(x), preLogits: true), 3, 256);
        AssertShape(m.forward(x), 3, 10);
        Assert.Equal(256, m.NumFeatures);

        var c = InvolutionNet.Create("rednet11_w16_k5", inChannels: 3, imageSize: 32, seed: 1);
        AssertShape(c.forward(Images(2, 3, 32, 32, 2)), 2, 10);
    }

    [Fact]
    public void ParameterNamesFollowRedNet()
    {
        var sd = InvolutionNet.Create("rednet11_w16").state_dict();
        AssertShape(sd["conv1.weight"], 16, 1, 3, 3);
        AssertShape(sd["bn1.running_var"], 16);
        AssertShape(sd["layer1.0.conv1.weight"], 16, 16, 1, 1);
        AssertShape(sd["layer1.0.conv2.conv1.conv.weight"], 4, 16, 1, 1);
        AssertShape(sd["layer1.0.conv2.conv1.bn.weight"], 4);
        AssertShape(sd["layer1.0.conv2.conv2.conv.weight"], 9, 4, 1, 1);
        AssertShape(sd["layer2.0.conv2.conv2.conv.bias"], 18);
        AssertShape(sd["layer1.0.bn2.weight"], 16);
        AssertShape(sd["layer1.0.conv3.weight"], 64, 16, 1, 1);
        AssertShape(sd["layer1.0.bn3.bias"], 64);
        AssertShape(sd["layer1.0.downsample.0.weight"], 64, 16, 1, 1);
        AssertShape(sd["layer3.0.downsample.1.weight"], 256);
        AssertShape(sd["fc.weight"], 10, 256);
        Assert.Contains("layer3.1.conv2.conv1.conv.weight", InvolutionNet.Create("rednet20_w16").state_dict().Keys);
    }

    [Fact]
    public void NamesParseInTimmGrammar()
    {
        var c = InvolutionNetConfig.FromName("rednet20_w16_k7");
        Assert.Equal((2, 16, 7, 4, 3), (c.BlocksPerStage, c.Width, c.KernelSize, c.Expansion, c.Stages));
        Assert.Equal("rednet20_w16_k7", c.Name);
        Assert.Equal("rednet8_w32_e2_s2", InvolutionNetConfig.FromName("rednet8_w32_e2_s2").Name);
        foreach (var name in InvolutionNet.ModelNames) Assert.Equal(name, InvolutionNetConfig.FromName(name).Name);
        Assert.Contains("not 3·3·n + 2", Assert.Throws<ArgumentException>(() => InvolutionNetConfig.FromName("rednet12_w16")).Message);
        Assert.Contains("multiple of GroupChannels", Assert.Throws<ArgumentException>(() => InvolutionNetConfig.FromName("rednet11_w8")).Message);
        Assert.Contains("unknown model name", Assert.Throws<ArgumentException>(() => InvolutionNet.Create("resnet8_w16")).Message);
    }

    [Fact]
    public void CountsMatchHandCalculation()
    {
        var m = InvolutionNet.Create("rednet11_w16");
        static long Inv(int c, int k, int groups, int r) => c * (c / r) + 2 * (c / r) + (c / r) * k * k * groups + k * k * groups;
        long stem = 1 * 16 * 9 + 2 * 16;
        long layer1 = 16 * 16 + 32 + Inv(16, 3, 1, 4) + 32 + 16 * 64 + 128 + 16 * 64 + 128;
        long layer2 = 64 * 32 + 64 + Inv(32, 3, 2, 4) + 64 + 32 * 128 + 256 + 64 * 128 + 256;
        long layer3 = 128 * 64 + 128 + Inv(64, 3, 4, 4) + 128 + 64 * 256 + 512 + 128 * 256 + 512;
        long head = 256 * 10 + 10;
        Assert.Equal(81_189, stem + layer1 + layer2 + layer3 + head);
        Assert.Equal(81_189, m.AnalyticParameterCount);
        Assert.Equal(81_189, m.ParameterCount());

        // Involution MACs at output size o: generation o²·(m·m/4 + m/4·9G), aggregation o²·m·9.
        long macs = 28 * 28 * 16 * 9
            + 28 * 28 * 16 * 16 + 28 * 28 * (16 * 4 + 4 * 9) + 28 * 28 * 16 * 9 + 28 * 28 * 16 * 64 + 28 * 28 * 16 * 64
            + 28 * 28 * 64 * 32 + 14 * 14 * (32 * 8 + 8 * 18) + 14 * 14 * 32 * 9 + 14 * 14 * 32 * 128 + 14 * 14 * 64 * 128
            + 14 * 14 * 128 * 64 + 7 * 7 * (64 * 16 + 16 * 36) + 7 * 7 * 64 * 9 + 7 * 7 * 64 * 256 + 7 * 7 * 128 * 256
            + 256 * 10;
        Assert.Equal(10_382_720, macs);
        Assert.Equal(2 * macs, m.Flops());
        Assert.Equal(2 * macs * 7, m.Flops(7));

        foreach (var name in new[] { "rednet20_w16", "rednet11_w16_k7", "rednet8_w32_e2_s2" })
        {
            var model = InvolutionNet.Create(name, inChannels: 3);
            Assert.Equal(model.ParameterCount(), model.AnalyticParameterCount);
        }
    }

    [Fact]
    public void StateDictRoundTrip() =>
        AssertStateDictRoundTrip(new InvolutionNet(seed: 1), new InvolutionNet(seed: 2), Images(4, 1, 28, 28, 3));

    [Fact]
    public void ForwardBackwardReachesEveryParameter() =>
        AssertForwardBackward(new InvolutionNet(seed: 1), Images(4, 1, 28, 28, 4), Targets(1, 2, 5, 8));

    [Fact]
    public void RejectsWrongInputWithShapeInMessage()
    {
        var m = new InvolutionNet();
        Assert.Contains("(2, 28, 28)", Assert.Throws<ArgumentException>(() => m.forward(zeros(2, 28, 28))).Message);
        // 27 → 27 → 14: the stride-2 involution of the third stage sees 14, but the second stage sees 27 (odd).
        Assert.Contains("multiple of the stride", Assert.Throws<ArgumentException>(() => m.forward(zeros(1, 1, 27, 27))).Message);
    }

    [Fact]
    public void TinyConfigLearnsFixedBatch()
    {
        var (x, y) = FixedBatch(16);
        var (first, last) = TrainSteps(new InvolutionNet(new InvolutionNetConfig(Width: 4, Stages: 2, Expansion: 2, GroupChannels: 4, ReductionRatio: 2), 1), x, y, steps: 8, lr: 3e-2);
        Assert.True(last < 0.7f * first, $"loss {first} -> {last}");
    }

    /// <summary>The default model reaches > 90% eval-mode train accuracy on 64 fixed images (about 25 AdamW steps).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void OverfitsSixtyFourImages()
    {
        var (x, y) = FixedBatch();
        var model = new InvolutionNet(seed: 1);
        var (accuracy, steps) = Overfit(model, x, y, maxSteps: 60, lr: 1e-2);
        Assert.True(accuracy > 0.9, $"train accuracy {accuracy:P1} after {steps} steps");
    }
}
