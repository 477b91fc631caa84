// libxml2 for vim25 SOAP, in one place: XmlWriter builds request envelopes
// with libxml2's text writer (every value escaped by libxml2, never pasted
// into markup), and the reading helpers walk a parsed response by local
// element names (vim25 responses put everything in urn:vim25; xsi:type is
// read by namespace URI, whatever prefix the server chose).
//
// Internal to the vSphere provider (providers/vsphere_*.cc); this header
// includes libxml2 and must not appear in a public header. Thread-compatible.
#ifndef GITDISC_PROVIDERS_VSPHERE_XML_H_
#define GITDISC_PROVIDERS_VSPHERE_XML_H_

#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/c_handle.h"
#include "base/status.h"
#include "providers/vsphere_types.h"

namespace gitdisc::vsphere {

using XmlDoc = CHandle<xmlDoc, xmlFreeDoc>;

// Writes <soapenv:Envelope><soapenv:Body><METHOD xmlns="urn:vim25"> … and
// closes it all in Finish().
class XmlWriter {
 public:
  explicit XmlWriter(const char* method);
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  void Start(const char* name);
  // Starts an element with xsi:type="type" (polymorphic vim25 data objects).
  void StartTyped(const char* name, const char* type);
  void End();
  void Text(std::string_view text);
  void Element(const char* name, std::string_view text);
  // <name type="ref.type">ref.value</name>
  void Ref(const char* name, const MoRef& ref);
  void Bool(const char* name, bool v) { Element(name, v ? "true" : "false"); }
  void Int(const char* name, long long v) { Element(name, std::to_string(v)); }

  // The whole document; kInternal if any libxml2 call failed.
  Result<std::string> Finish();

 private:
  void Check(int rc) {
    if (rc < 0) failed_ = true;
  }
  CHandle<xmlBuffer, xmlBufferFree> buf_;
  CHandle<xmlTextWriter, xmlFreeTextWriter> w_;
  bool failed_ = false;
};

// Parses untrusted XML: no network, no entity expansion, no DTD loading,
// bounded size. kInvalid when it is not well-formed.
Result<XmlDoc> ParseXml(std::string_view xml, const char* what);

bool IsElement(const xmlNode* n, const char* local_name);
const xmlNode* Child(const xmlNode* n, const char* local_name);
std::vector<const xmlNode*> Children(const xmlNode* n, const char* local_name);
const xmlNode* FirstChildElement(const xmlNode* n);
std::string Text(const xmlNode* n);
std::string ChildText(const xmlNode* n, const char* local_name);
// The xsi:type attribute without a prefix ("xsd:string" → "string",
// "ArrayOfOptionValue" stays).
std::string XsiType(const xmlNode* n);
std::string Attr(const xmlNode* n, const char* name);
// <x type="T">V</x> → {T, V}
MoRef RefOf(const xmlNode* n);

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_XML_H_
