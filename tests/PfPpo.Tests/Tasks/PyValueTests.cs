using System.Text.Json;
using PfPpo.Tasks;

namespace PfPpo.Tests.Tasks;

public class PyValueTests
{
    [Theory]
    [InlineData("abc", "'abc'")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("say \"hi\" it's", "'say \"hi\" it\\'s'")]
    [InlineData("a\\b\nc", "'a\\\\b\\nc'")]
    [InlineData("", "''")]
    public void ReprQuotesLikePython(string text, string expected) => Assert.Equal(expected, PyValue.Repr(text));

    [Fact]
    public void NestedValuesBecomeJsonAndPythonLiterals()
    {
        var dict = new OrderedDictionary<string, long> { ["b"] = 2, ["a"] = -1 };
        object?[] value = [1L, "x", true, false, null, new long[] { 3, 4 }, dict];
        JsonElement json = PyValue.ToJson(value);
        Assert.Equal("""[1,"x",true,false,null,[3,4],{"b":2,"a":-1}]""", json.GetRawText());
        Assert.Equal("[1, 'x', True, False, None, [3, 4], {'b': 2, 'a': -1}]", PyValue.ToPython(json));
    }

    [Fact]
    public void RejectsValuesJsonCannotCarry()
    {
        Assert.Throws<ArgumentException>(() => PyValue.ToJson(new Dictionary<int, long> { [1] = 2 }));
        Assert.Throws<ArgumentException>(() => PyValue.ToJson(1.5));
        Assert.Throws<ArgumentException>(() => PyValue.ToPython(JsonDocument.Parse("1.5").RootElement));
        Assert.Throws<ArgumentException>(() => PyValue.Repr("caf\u00e9"));
    }
}
