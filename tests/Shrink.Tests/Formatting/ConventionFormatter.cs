using System.Collections;
using System.Linq.Expressions;
using System.Reflection;

namespace Shrink.Tests.Formatting;

/// <summary>One formatter found by convention: its MIME type, the type it formats and its bound Format method.</summary>
internal sealed record ConventionTypeFormatter(string MimeType, Type Type, Func<object, TextWriter, bool> Format);

/// <summary>
/// Finds and calls formatters exactly as .NET Interactive's <c>Formatter.TryRegisterFromConventionBasedFormatterSources</c>
/// does (papers/notebook-format.md §5), and as our runner will: any attribute whose type name is
/// <c>TypeFormatterSourceAttribute</c>; <c>FormatterSourceType</c> and <c>PreferredMimeTypes</c> read through
/// <c>GetProperty</c>; the source made by <c>Activator.CreateInstance</c>; <c>GetMethod("CreateTypeFormatters")</c>
/// invoked; per formatter <c>MimeType</c> and <c>Type</c> read by <c>GetProperty</c> and <c>GetMethod("Format")</c> bound
/// through <c>Expression.Call</c> into a <c>Func&lt;object, TextWriter, bool&gt;</c> (so an overloaded Format throws
/// <see cref="AmbiguousMatchException"/> here as it does there).
/// </summary>
internal static class ConventionFormatter
{
    public static (IReadOnlyList<ConventionTypeFormatter> Formatters, string[]? PreferredMimeTypes) Discover(Type type)
    {
        var formatters = new List<ConventionTypeFormatter>();
        string[]? preferred = null;
        var attributes = type.GetCustomAttributes(true).Where(a => a.GetType().Name == "TypeFormatterSourceAttribute").ToArray();
        foreach (var attr in attributes)
        {
            if (TryGetPropertyValue<object>(attr, "FormatterSourceType", out var prop) && prop is Type sourceType)
            {
                var source = Activator.CreateInstance(sourceType)!;
                if (source.GetType().GetMethod("CreateTypeFormatters")!.Invoke(source, null) is IEnumerable created)
                {
                    foreach (var f in created)
                    {
                        if (!TryGetPropertyValue<string>(f, "MimeType", out var mimeType)) continue;
                        var formatMethod = f.GetType().GetMethod("Format")!;
                        var value = Expression.Parameter(typeof(object));
                        var writer = Expression.Parameter(typeof(TextWriter));
                        var call = Expression.Call(Expression.Constant(f), formatMethod, value, writer);
                        var format = Expression.Lambda<Func<object, TextWriter, bool>>(call, value, writer).Compile();
                        if (!TryGetPropertyValue(f, "Type", out Type formattedType)) formattedType = type;
                        formatters.Add(new ConventionTypeFormatter(mimeType, formattedType, format));
                    }
                }
            }
            if (TryGetPropertyValue<string[]>(attr, "PreferredMimeTypes", out var mimeTypes)) preferred = mimeTypes;
        }
        return (formatters, preferred);
    }

    /// <summary>The MIME bundle a host makes for <paramref name="value"/>: one entry per preferred MIME type, in order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> FormatBundle(object value)
    {
        var (formatters, preferred) = Discover(value.GetType());
        if (formatters.Count == 0) throw new InvalidOperationException($"{value.GetType().Name} has no convention formatter.");
        if (preferred is null || preferred.Length == 0) throw new InvalidOperationException($"{value.GetType().Name} names no preferred MIME types.");
        var bundle = new List<KeyValuePair<string, string>>();
        foreach (var mime in preferred)
        {
            foreach (var f in formatters.Where(f => f.MimeType == mime && f.Type.IsAssignableFrom(value.GetType())))
            {
                using var writer = new StringWriter();
                if (f.Format(value, writer)) { bundle.Add(new(mime, writer.ToString())); break; }
            }
        }
        return bundle;
    }

    /// <summary>The text of <paramref name="mimeType"/> in <paramref name="bundle"/>.</summary>
    public static string Get(this IReadOnlyList<KeyValuePair<string, string>> bundle, string mimeType) =>
        bundle.Single(kv => kv.Key == mimeType).Value;

    private static bool TryGetPropertyValue<T>(object fromObject, string propertyName, out T value)
    {
        if (fromObject.GetType().GetProperty(propertyName) is { } propInfo && propInfo.GetGetMethod() is { } getMethod)
        {
            if (getMethod.Invoke(fromObject, null) is T valueT) { value = valueT; return true; }
        }
        value = default!;
        return false;
    }
}
