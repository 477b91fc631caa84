// XmlWriter: builds a small XML document (libvirt device, pool and volume
// descriptions, the labels element) through libxml2's xmlTextWriter, so every
// text and attribute value is escaped by libxml2 and no value is ever spliced
// into markup by hand.
//
//   XmlWriter w;
//   w.Start("disk").Attr("type", "file").Attr("device", "cdrom");
//   w.Start("source").Attr("file", path).End();
//   std::string xml = w.Finish();   // <disk type="file" device="cdrom"><source file="…"/></disk>
//
// Element and attribute names are the caller's constants; values may be
// anything (paths, label values). Output has no XML declaration and no
// indentation; an element without content is written as <x/> unless ended
// with EndFull(). libxml2 fails only when memory runs out, which is reported
// as std::bad_alloc, like any allocation.
//
// Thread-safety: one XmlWriter per thread; separate writers are independent.
#ifndef GITDISC_PROVIDERS_XML_WRITER_H_
#define GITDISC_PROVIDERS_XML_WRITER_H_

#include <memory>
#include <string>
#include <string_view>

namespace gitdisc {

class XmlWriter {
 public:
  XmlWriter();
  ~XmlWriter();
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  // Opens element `name`.
  XmlWriter& Start(std::string_view name);
  // Opens `prefix:name`; with `uri`, the element also declares xmlns:prefix.
  XmlWriter& StartNs(std::string_view prefix, std::string_view name, std::string_view uri = {});
  // An attribute of the element just opened (before any content).
  XmlWriter& Attr(std::string_view name, std::string_view value);
  XmlWriter& Text(std::string_view text);
  // Closes the innermost open element (<x/> when it has no content).
  XmlWriter& End();
  // Closes it with an explicit end tag even when empty (<x></x>).
  XmlWriter& EndFull();
  // <name>text</name> in one call.
  XmlWriter& Element(std::string_view name, std::string_view text);
  // Closes every open element and returns the document. The writer is done.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_XML_WRITER_H_
