using System.Text.Json;
using PfPpo.Evaluation;
using PfPpo.Scoring;

namespace PfPpo.Tests.Scoring;

public class OutputComparerTests
{
    private static bool Match(string expected, string tagged) =>
        OutputComparer.Matches(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(tagged).RootElement);

    [Theory]
    [InlineData("3", """{"i": "3"}""", true)]
    [InlineData("3", """{"f": "3.0"}""", false)] // a JSON integer needs an int
    [InlineData("1", """{"b": true}""", false)] // bool is not an int
    [InlineData("true", """{"i": "1"}""", false)]
    [InlineData("true", """{"b": true}""", true)]
    [InlineData("123456789012345678901234567890", """{"i": "123456789012345678901234567890"}""", true)]
    [InlineData("0.1", """{"f": "0.10000000000000002"}""", true)]
    [InlineData("2.0", """{"i": "2"}""", true)]
    [InlineData("1e9", """{"f": "1000000999.0"}""", true)] // relative tolerance
    [InlineData("1e9", """{"f": "1000010000.0"}""", false)]
    [InlineData("0.5", """{"f": "0.5001"}""", false)]
    [InlineData("0.5", """{"f": "nan"}""", false)]
    [InlineData("\"a\"", """{"s": "a"}""", true)]
    [InlineData("\"a\"", """{"s": "b"}""", false)]
    [InlineData("null", """{"z": null}""", true)]
    [InlineData("null", """{"l": []}""", false)]
    [InlineData("[1, [2]]", """{"t": [{"i": "1"}, {"l": [{"i": "2"}]}]}""", true)]
    [InlineData("[1, 2]", """{"l": [{"i": "1"}]}""", false)]
    [InlineData("[1, 2]", """{"set": [{"i": "1"}, {"i": "2"}]}""", false)]
    [InlineData("""{"a": 1, "b": [true]}""", """{"d": [[{"s": "b"}, {"l": [{"b": true}]}], [{"s": "a"}, {"i": "1"}]]}""", true)]
    [InlineData("""{"a": 1}""", """{"d": [[{"s": "a"}, {"i": "1"}], [{"s": "b"}, {"i": "1"}]]}""", false)]
    [InlineData("""{"1": 1}""", """{"d": [[{"i": "1"}, {"i": "1"}]]}""", false)]
    [InlineData("3", """{"i": "3", "s": "x"}""", false)]
    [InlineData("3", "\"3\"", false)]
    public void ComparesWithTypeChecksAndTolerance(string expected, string tagged, bool match) =>
        Assert.Equal(match, Match(expected, tagged));

    [Theory]
    [InlineData("""{"f": "0.5"}""", """{"f": "0.5000001"}""", 1e-6, true)]
    [InlineData("""{"f": "0.5"}""", """{"f": "0.50001"}""", 1e-6, false)]
    [InlineData("""{"f": "0.5"}""", """{"f": "0.5000001"}""", 0, true)] // 0 means evalplus's 1e-6
    [InlineData("""{"i": "2"}""", """{"f": "2.0"}""", 0, true)] // Python: 2 == 2.0
    [InlineData("""{"i": "2"}""", """{"b": true}""", 0, false)]
    [InlineData("""{"t": [{"i": "1"}]}""", """{"l": [{"i": "1"}]}""", 0, false)] // (1,) != [1]
    [InlineData("""{"set": [{"i": "1"}, {"i": "2"}]}""", """{"set": [{"i": "2"}, {"i": "1"}]}""", 0, true)]
    [InlineData("""{"set": [{"i": "1"}, {"i": "2"}]}""", """{"set": [{"i": "2"}, {"i": "3"}]}""", 0, false)]
    [InlineData("""{"d": [[{"s": "a"}, {"f": "1.0"}], [{"s": "b"}, {"z": null}]]}""", """{"d": [[{"s": "b"}, {"z": null}], [{"s": "a"}, {"f": "1.0000001"}]]}""", 0, true)]
    [InlineData("""{"d": [[{"s": "a"}, {"i": "1"}]]}""", """{"d": [[{"s": "c"}, {"i": "1"}]]}""", 0, false)]
    public void ComparesTaggedValuesLikeEvalPlus(string expected, string actual, double atol, bool match) =>
        Assert.Equal(match, OutputComparer.MatchesTagged(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual).RootElement, atol));
}
