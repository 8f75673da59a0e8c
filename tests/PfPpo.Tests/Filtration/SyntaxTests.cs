using PfPpo.Filtration;

namespace PfPpo.Tests.Filtration;

public class SyntaxTests
{
    [Theory]
    [InlineData("none", typeof(NoFilter))]
    [InlineData("bon", typeof(BestOfN))]
    [InlineData("br", typeof(BestRandom))]
    [InlineData("bw", typeof(BestWorst))]
    [InlineData("ranks:0.5,0.25,0.25", typeof(RankWeights))]
    [InlineData("ranks:1", typeof(RankWeights))]
    [InlineData("top:q0.8", typeof(Top))]
    [InlineData("top:0.5", typeof(Top))]
    [InlineData("top:-1.25", typeof(Top))]
    [InlineData("top-random:0.6", typeof(TopRandom))]
    [InlineData("top-random:q0", typeof(TopRandom))]
    [InlineData("top-bottom:q0.8,q0.2", typeof(TopBottom))]
    [InlineData("top-bottom:1.5,-2", typeof(TopBottom))]
    [InlineData("top-bottom:q0.9,0.1", typeof(TopBottom))]
    [InlineData("pow:2", typeof(Pow))]
    [InlineData("pow:0.5", typeof(Pow))]
    public void CanonicalTextRoundTrips(string text, Type type)
    {
        FiltrationStrategy s = FiltrationStrategy.Parse(text);
        Assert.IsType(type, s);
        Assert.Equal(text, s.ToString());
        Assert.Equal(s, FiltrationStrategy.Parse(s.ToString()));
    }

    [Theory]
    [InlineData(" BR ", "br")]
    [InlineData("Top:Q0.80", "top:q0.8")]
    [InlineData("ranks: 0.50, 0.5", "ranks:0.5,0.5")]
    [InlineData("top-bottom:q.8,q.2", "top-bottom:q0.8,q0.2")]
    [InlineData("pow:3.0", "pow:3")]
    [InlineData("top:1e-3", "top:0.001")]
    public void VariantsParseToTheCanonicalForm(string text, string canonical) =>
        Assert.Equal(canonical, FiltrationStrategy.Parse(text).ToString());

    [Theory]
    [InlineData("top:q1.5", "top:q1.5: a quantile must be in [0, 1]")]
    [InlineData("top:q-0.1", "top:q-0.1: a quantile must be in [0, 1]")]
    [InlineData("top-bottom:q0.8,qx", "top-bottom:q0.8,qx: the quantile qx must be a finite number, not 'x'")]
    [InlineData("top:abc", "top:abc: the threshold must be a finite number, not 'abc'")]
    [InlineData("top:NaN", "top:NaN: the threshold must be a finite number")]
    [InlineData("top:Infinity", "top:Infinity: the threshold must be a finite number")]
    [InlineData("top", "top: top needs one threshold")]
    [InlineData("top:", "top:: the threshold must be a finite number, not ''")]
    [InlineData("top:0.1,0.2", "top:0.1,0.2: top needs one threshold")]
    [InlineData("top-random", "top-random: top-random needs one threshold")]
    [InlineData("top-bottom:q0.8", "top-bottom:q0.8: top-bottom needs two thresholds")]
    [InlineData("top-bottom:q0.2,q0.8", "top-bottom:q0.2,q0.8: the lower threshold (q0.8) must not be above the upper one (q0.2)")]
    [InlineData("top-bottom:0,1", "top-bottom:0,1: the lower threshold (1) must not be above the upper one (0)")]
    [InlineData("ranks:0.5,0.25", "ranks:0.5,0.25: rank weights must sum to 1 (they sum to 0.75)")]
    [InlineData("ranks:1.5,-0.5", "ranks:1.5,-0.5: rank weights must be non-negative finite numbers (rank 2 is -0.5)")]
    [InlineData("ranks:0.5,x", "ranks:0.5,x: rank weight 2 must be a finite number, not 'x'")]
    [InlineData("ranks", "ranks: ranks needs weights over ranks")]
    [InlineData("ranks:", "ranks:: ranks needs weights over ranks")]
    [InlineData("pow:0", "pow:0: the exponent k must be positive")]
    [InlineData("pow:-1", "pow:-1: the exponent k must be positive")]
    [InlineData("pow", "pow: pow needs one exponent")]
    [InlineData("pow:two", "pow:two: the exponent k must be a finite number, not 'two'")]
    [InlineData("bon:3", "bon:3: bon takes no argument")]
    [InlineData("none:", "none:: none takes no argument")]
    [InlineData("best", "best: unknown strategy 'best'; expected one of none, bon, br, bw")]
    [InlineData("", "empty strategy; expected one of none, bon")]
    [InlineData("   ", "empty strategy")]
    public void ErrorsNameTheBadPart(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => FiltrationStrategy.Parse(text));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void RankWeightsWithinToleranceAreAccepted()
    {
        Assert.IsType<RankWeights>(FiltrationStrategy.Parse("ranks:0.3333333,0.3333333,0.3333334"));
        Assert.IsType<RankWeights>(FiltrationStrategy.Parse("ranks:0.3333333,0.3333333,0.3333333"));
        Assert.Throws<FormatException>(() => FiltrationStrategy.Parse("ranks:0.333,0.333,0.333"));
        Assert.Throws<ArgumentException>(() => new RankWeights([0.5, 0.6]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pow(0));
        Assert.Throws<ArgumentException>(() => new TopBottom(Threshold.Absolute(0), Threshold.Absolute(1)));
    }

    [Fact]
    public void EqualityIsByValue()
    {
        Assert.Equal(FiltrationStrategy.Parse("ranks:0.5,0.5"), new RankWeights([0.5, 0.5]));
        Assert.NotEqual(FiltrationStrategy.Parse("ranks:0.5,0.5"), FiltrationStrategy.Parse("ranks:0.5,0.5,0"));
        Assert.Equal(FiltrationStrategy.Parse("ranks:0.5,0.5").GetHashCode(), new RankWeights([0.5, 0.5]).GetHashCode());
        Assert.Equal(FiltrationStrategy.Parse("top:q0.8"), new Top(Threshold.Quantile(0.8)));
        Assert.NotEqual(FiltrationStrategy.Parse("top:q0.8"), FiltrationStrategy.Parse("top:0.8"));
        Assert.NotEqual(FiltrationStrategy.Parse("top:0.8"), FiltrationStrategy.Parse("top-random:0.8"));
        Assert.Equal(FiltrationStrategy.Parse("top-bottom:1,0"), new TopBottom(Threshold.Absolute(1), Threshold.Absolute(0)));
        Assert.Equal(FiltrationStrategy.Parse("pow:2"), new Pow(2));
        Assert.NotEqual(FiltrationStrategy.Parse("pow:2"), new Pow(3));
    }

    [Fact]
    public void ParsedNumbersRoundTripExactly()
    {
        var rng = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            double t = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 8));
            FiltrationStrategy s = new Top(Threshold.Absolute(t));
            Assert.Equal(s, FiltrationStrategy.Parse(s.ToString()));
            double q = rng.NextDouble();
            FiltrationStrategy r = new TopRandom(Threshold.Quantile(q));
            Assert.Equal(r, FiltrationStrategy.Parse(r.ToString()));
        }
    }

    [Fact]
    public void ListsSplitOnCommasBetweenStrategies()
    {
        IReadOnlyList<FiltrationStrategy> list = StrategySyntax.ParseList("none, br,ranks:0.5,0.25,0.25,top-bottom:q0.8,q0.2,pow:2,bw,top:-1");
        Assert.Equal(["none", "br", "ranks:0.5,0.25,0.25", "top-bottom:q0.8,q0.2", "pow:2", "bw", "top:-1"], list.Select(s => s.ToString()));
        Assert.Equal(["bon"], StrategySyntax.ParseList("bon").Select(s => s.ToString()));
        var duplicate = Assert.Throws<FormatException>(() => StrategySyntax.ParseList("br,bon,BR"));
        Assert.Contains("br is listed twice", duplicate.Message);
        var unknown = Assert.Throws<FormatException>(() => StrategySyntax.ParseList("br,best"));
        Assert.StartsWith("best: unknown strategy", unknown.Message);
        Assert.Throws<FormatException>(() => StrategySyntax.ParseList("pow:2,"));
        Assert.Throws<FormatException>(() => StrategySyntax.ParseList(""));
    }
}
