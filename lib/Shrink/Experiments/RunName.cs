using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Shrink.Experiments;

/// <summary>
/// Names a run after its hyperparameters (open_lth's <c>Desc.hashname</c>):
/// <c>RunName.For(h) = "{TypeName}_{first 10 hex digits of SHA-256(UTF-8(Canonical(h)))}"</c>, e.g.
/// <c>TrainingHparams_3f0c9e1a2b</c>. Only properties that differ from the record's defaults enter
/// <see cref="Canonical"/>, so two records that are equal up to defaults share a folder, and adding a property with
/// a default to a record never renames existing runs. The names are pinned by a regression test: changing this
/// class or a default value silently orphans every cached run.
/// </summary>
public static class RunName
{
    /// <summary>Number of hex digits of the hash in a run name (40 bits).</summary>
    public const int HashLength = 10;

    private static readonly ConcurrentDictionary<Type, Layout> Layouts = new();

    /// <summary>The run-folder name <c>"{TypeName}_{hash}"</c> of <paramref name="hparams"/> (see the class remarks).</summary>
    /// <exception cref="ArgumentException">The record breaks the <see cref="Hparams"/> rules; the message names the property.</exception>
    public static string For(Hparams hparams) => hparams.GetType().Name + "_" + Hash(Canonical(hparams));

    /// <summary>The first <see cref="HashLength"/> lowercase hex digits of SHA-256 of the UTF-8 bytes of <paramref name="canonical"/>.</summary>
    public static string Hash(string canonical)
    {
        ArgumentNullException.ThrowIfNull(canonical);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..HashLength];
    }

    /// <summary>
    /// The canonical text of <paramref name="hparams"/>: <c>TypeName(Name1=value1, Name2=value2)</c> listing the public
    /// properties whose value differs from the default record's, sorted by name (ordinal), leaving out those marked
    /// <see cref="NotInRunNameAttribute"/>. Values are written with the invariant culture: integers in decimal, float and
    /// double round-trip (<c>"R"</c>: 0.1 → <c>0.1</c>, 1e-5 → <c>1E-05</c>), bool <c>true</c>/<c>false</c>, strings quoted
    /// with <c>\</c> escaping <c>"</c> and <c>\</c>, enums by name, steps as written (<c>2ep100it</c>), null as <c>null</c>,
    /// lists as <c>[a, b]</c>, nested records by their own canonical text. A record with all defaults is <c>TypeName()</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A property type has no canonical text, or the record has no all-defaults constructor.</exception>
    public static string Canonical(Hparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        var layout = Layouts.GetOrAdd(hparams.GetType(), t => new Layout(t));
        var sb = new StringBuilder(layout.Type.Name).Append('(');
        bool first = true;
        for (int i = 0; i < layout.Properties.Length; i++)
        {
            var p = layout.Properties[i];
            string value = Format(p.GetValue(hparams), layout.Type.Name + "." + p.Name);
            if (value == layout.DefaultTexts[i]) continue;
            if (!first) sb.Append(", ");
            sb.Append(p.Name).Append('=').Append(value);
            first = false;
        }
        return sb.Append(')').ToString();
    }

    /// <summary>The properties that enter the name and the canonical text of their default values.</summary>
    private sealed class Layout
    {
        public readonly Type Type;
        public readonly PropertyInfo[] Properties;
        public readonly string[] DefaultTexts;

        public Layout(Type type)
        {
            Type = type;
            var ctorParams = type.GetConstructors().SelectMany(c => c.GetParameters()).Where(p => p.Name is not null)
                .GroupBy(p => p.Name!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
            Properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.GetMethod!.IsPublic)
                .Where(p => p.GetCustomAttribute<NotInRunNameAttribute>() is null
                    && !(ctorParams.TryGetValue(p.Name, out var ps) && ps.Any(x => x.GetCustomAttribute<NotInRunNameAttribute>() is not null)))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ToArray();
            var defaults = CreateDefault(type);
            DefaultTexts = Properties.Select(p => Format(p.GetValue(defaults), type.Name + "." + p.Name)).ToArray();
        }
    }

    /// <summary>The record built with every default: a public parameterless constructor, or one whose parameters all have defaults.</summary>
    internal static object CreateDefault(Type type)
    {
        if (type.IsAbstract) throw new ArgumentException($"RunName: {type.Name} is abstract; name a concrete hyperparameter record.");
        var ctor = type.GetConstructors()
            .Where(c => c.GetParameters().All(p => p.HasDefaultValue))
            .OrderBy(c => c.GetParameters().Length)
            .FirstOrDefault()
            ?? throw new ArgumentException($"RunName: {type.Name} needs a default for every property (a public parameterless constructor, or one whose parameters all have default values), so that its non-default values can be named.");
        var args = ctor.GetParameters().Select(p => p.DefaultValue is DBNull ? null : p.DefaultValue).ToArray();
        try { return ctor.Invoke(args); }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new ArgumentException($"RunName: building the default {type.Name} failed: {e.InnerException.Message}", e.InnerException);
        }
    }

    /// <summary>The canonical text of one value; <paramref name="where"/> names the property in errors.</summary>
    private static string Format(object? value, string where)
    {
        switch (value)
        {
            case null: return "null";
            case string s: return "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
            case bool b: return b ? "true" : "false";
            case double d: return d.ToString("R", CultureInfo.InvariantCulture);
            case float f: return f.ToString("R", CultureInfo.InvariantCulture);
            case Hparams h: return Canonical(h);
            case Enum e: return e.ToString();
            case sbyte or byte or short or ushort or int or uint or long or ulong or decimal:
                return ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture);
            case IEnumerable list:
            {
                var sb = new StringBuilder("[");
                int i = 0;
                foreach (var item in list)
                {
                    if (i > 0) sb.Append(", ");
                    sb.Append(Format(item, $"{where}[{i}]"));
                    i++;
                }
                return sb.Append(']').ToString();
            }
        }
        var type = value.GetType();
        if (type.IsValueType && value is IFormattable formattable
            && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IParsable<>)))
            return formattable.ToString(null, CultureInfo.InvariantCulture);
        throw new ArgumentException($"RunName: {where} has type {type.Name}, which has no canonical text. Use bool, numbers, strings, enums, Step, nested Hparams records, or lists of these.");
    }
}
