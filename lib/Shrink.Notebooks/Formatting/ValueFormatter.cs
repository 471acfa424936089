using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Shrink.Notebooks.Formatting;

/// <summary>
/// Turns a value into a <see cref="MimeBundle"/>, the way the runner shows a cell's trailing expression and
/// <c>display(x)</c>.
/// <list type="bullet">
/// <item><c>null</c> is <c>text/plain</c> "&lt;null&gt;"; a string is itself as <c>text/plain</c>; an
/// <see cref="HtmlString"/> is <c>text/html</c>.</item>
/// <item>A type carrying an attribute whose type is named <c>TypeFormatterSourceAttribute</c> (any namespace, on the
/// type or a base type) uses .NET Interactive's convention-based formatters, called by reflection so that a library
/// needs no reference to this runner: the attribute's public <c>Type FormatterSourceType</c> is instantiated with its
/// public parameterless constructor, its public <c>CreateTypeFormatters()</c> returns the formatters, and each
/// formatter has a public <c>string MimeType</c>, optionally a public <c>Type Type</c> (the types it applies to), and
/// a public <c>bool Format(object instance, TextWriter writer)</c>. Every formatter that returns true contributes its
/// MIME type (the first one per MIME type wins); the attribute's optional public <c>string[] PreferredMimeTypes</c>
/// come first in the bundle. This is the contract of papers/notebook-format.md §5, so one library renders in
/// Polyglot and in this runner alike.</item>
/// <item>Every bundle has <c>text/plain</c>: the value's <c>ToString()</c> when no formatter gave one (sequences
/// print as <c>[ 1, 2, 3 ]</c>, as .NET Interactive prints them).</item>
/// </list>
/// The formatters found for a type are cached per type.
/// </summary>
public static class ValueFormatter
{
    /// <summary>The plain-text rendering of null (.NET Interactive's <c>Formatter.NullString</c>).</summary>
    public const string NullString = "<null>";

    const int MaxSequenceItems = 20;

    static readonly ConcurrentDictionary<Type, ConventionFormatters?> Cache = new();

    /// <summary>The MIME bundle for <paramref name="value"/>; with <paramref name="mimeTypes"/>, only those types.</summary>
    public static MimeBundle Format(object? value, IReadOnlyList<string>? mimeTypes = null)
    {
        var bundle = FormatAll(value);
        if (mimeTypes is null || mimeTypes.Count == 0)
            return bundle;
        var filtered = new MimeBundle();
        foreach (var mime in mimeTypes)
            if (bundle[mime] is string content)
                filtered.Add(mime, content);
        if (filtered.Count == 0)
            filtered.Add("text/plain", bundle["text/plain"]!);
        return filtered;
    }

    static MimeBundle FormatAll(object? value)
    {
        var bundle = new MimeBundle();
        switch (value)
        {
            case null:
                bundle.Add("text/plain", NullString);
                return bundle;
            case string s:
                bundle.Add("text/plain", s);
                return bundle;
            case HtmlString h:
                bundle.Add("text/html", h.Html);
                bundle.Add("text/plain", h.Html);
                return bundle;
            case MimeBundle b:
                foreach (var (mime, content) in b)
                    bundle.Add(mime, content);
                if (!bundle.Contains("text/plain"))
                    bundle.Add("text/plain", b.Count > 0 ? b.First().Value : "");
                return bundle;
        }

        var type = value.GetType();
        var conventions = Cache.GetOrAdd(type, ConventionFormatters.Find);
        if (conventions is not null)
            conventions.FormatInto(value, type, bundle);
        if (!bundle.Contains("text/plain"))
            bundle.Add("text/plain", PlainText(value, 0));
        return bundle;
    }

    /// <summary>Plain text for a value: <c>ToString()</c>, or <c>[ a, b, … ]</c> for a sequence.</summary>
    public static string PlainText(object? value) => PlainText(value, 0);

    static string PlainText(object? value, int depth)
    {
        switch (value)
        {
            case null:
                return NullString;
            case string s:
                return s;
            case IFormattable f:
                return f.ToString(null, CultureInfo.InvariantCulture);
            case IEnumerable seq when depth < 3 && !HasOwnToString(value.GetType()):
            {
                var sb = new StringBuilder("[ ");
                int n = 0;
                bool more = false;
                foreach (var item in seq)
                {
                    if (n == MaxSequenceItems) { more = true; break; }
                    if (n > 0) sb.Append(", ");
                    sb.Append(PlainText(item, depth + 1));
                    n++;
                }
                if (more) sb.Append(", ...");
                sb.Append(n == 0 && !more ? "]" : " ]");
                return sb.ToString();
            }
            default:
                return value.ToString() ?? "";
        }
    }

    static bool HasOwnToString(Type type)
    {
        var m = type.GetMethod("ToString", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        return m is not null && m.DeclaringType != typeof(object) && m.DeclaringType!.Namespace?.StartsWith("System", StringComparison.Ordinal) != true;
    }

    /// <summary>The convention-based formatters of one type.</summary>
    sealed class ConventionFormatters
    {
        readonly Type _attributedType;
        readonly string[] _preferred;
        readonly List<Formatter> _formatters;

        ConventionFormatters(Type attributedType, string[] preferred, List<Formatter> formatters)
        {
            _attributedType = attributedType;
            _preferred = preferred;
            _formatters = formatters;
        }

        sealed record Formatter(string MimeType, Type? AppliesTo, object Target, MethodInfo Format);

        public static ConventionFormatters? Find(Type type)
        {
            for (var t = type; t is not null; t = t.BaseType)
            {
                object[] attributes;
                try { attributes = t.GetCustomAttributes(inherit: false); }
                catch (Exception e) when (e is TypeLoadException or FileNotFoundException or CustomAttributeFormatException)
                {
                    continue;
                }
                foreach (var attribute in attributes)
                    if (attribute.GetType().Name == "TypeFormatterSourceAttribute")
                        return Create(t, attribute);
            }
            return null;
        }

        static ConventionFormatters Create(Type attributedType, object attribute)
        {
            string who = $"the TypeFormatterSourceAttribute on {attributedType.FullName}";
            var attrType = attribute.GetType();
            if (attrType.GetProperty("FormatterSourceType", BindingFlags.Public | BindingFlags.Instance)?.GetValue(attribute) is not Type sourceType)
                throw new InvalidOperationException($"{who} has no public Type FormatterSourceType property with a value");
            string[] preferred = attrType.GetProperty("PreferredMimeTypes", BindingFlags.Public | BindingFlags.Instance)?.GetValue(attribute) as string[] ?? [];

            object source;
            try { source = Activator.CreateInstance(sourceType)!; }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{who}: the formatter source {sourceType.FullName} cannot be created with a public parameterless constructor: {Inner(e).Message}", Inner(e));
            }
            var create = sourceType.GetMethod("CreateTypeFormatters", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes)
                ?? throw new InvalidOperationException($"{who}: {sourceType.FullName} has no public CreateTypeFormatters() method");
            object? created;
            try { created = create.Invoke(source, null); }
            catch (TargetInvocationException e)
            {
                throw new InvalidOperationException($"{sourceType.FullName}.CreateTypeFormatters() threw {Inner(e).GetType().Name}: {Inner(e).Message}", Inner(e));
            }
            if (created is not IEnumerable items)
                throw new InvalidOperationException($"{sourceType.FullName}.CreateTypeFormatters() must return an IEnumerable");

            var formatters = new List<Formatter>();
            foreach (var item in items)
            {
                if (item is null)
                    continue;
                var ft = item.GetType();
                if (ft.GetProperty("MimeType", BindingFlags.Public | BindingFlags.Instance)?.GetValue(item) is not string mime || mime.Length == 0)
                    throw new InvalidOperationException($"the formatter {ft.FullName} (from {sourceType.FullName}) needs a public string MimeType property");
                var appliesTo = ft.GetProperty("Type", BindingFlags.Public | BindingFlags.Instance) is { } tp && tp.PropertyType == typeof(Type)
                    ? tp.GetValue(item) as Type
                    : null;
                var format = ft.GetMethod("Format", BindingFlags.Public | BindingFlags.Instance, [typeof(object), typeof(TextWriter)]);
                if (format is null || format.ReturnType != typeof(bool))
                    throw new InvalidOperationException($"the formatter {ft.FullName} (from {sourceType.FullName}) needs a public bool Format(object instance, TextWriter writer) method");
                formatters.Add(new Formatter(mime, appliesTo, item, format));
            }
            return new ConventionFormatters(attributedType, preferred, formatters);
        }

        public void FormatInto(object value, Type valueType, MimeBundle bundle)
        {
            var produced = new List<KeyValuePair<string, string>>();
            foreach (var f in _formatters)
            {
                var appliesTo = f.AppliesTo ?? _attributedType;
                if (!appliesTo.IsAssignableFrom(valueType) || produced.Any(p => p.Key == f.MimeType))
                    continue;
                using var writer = new StringWriter(CultureInfo.InvariantCulture);
                bool ok;
                try { ok = (bool)f.Format.Invoke(f.Target, [value, writer])!; }
                catch (TargetInvocationException e)
                {
                    throw new InvalidOperationException($"formatting a {valueType.Name} as {f.MimeType} failed in {f.Target.GetType().FullName}.Format: {Inner(e).GetType().Name}: {Inner(e).Message}", Inner(e));
                }
                if (ok)
                    produced.Add(new(f.MimeType, writer.ToString()));
            }
            foreach (var mime in _preferred)
                foreach (var p in produced)
                    if (p.Key == mime)
                        bundle.Add(p.Key, p.Value);
            foreach (var p in produced)
                if (!bundle.Contains(p.Key))
                    bundle.Add(p.Key, p.Value);
        }

        static Exception Inner(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;
    }
}
